# bindmgr firewall rules for MDaemon (PowerShell, NetSecurity module; run as
# Administrator). A rerun replaces them: every rule of the group 'bindmgr' is removed
# first, so the rules of addresses that are no longer bound go too.
# Never block loopback (127.0.0.1, ::1): MDaemon's parts talk to each other over it.
# Windows Firewall leaves loopback alone by default: add no rule that blocks it.
# No domain is bound, so MDaemon listens on every address: the inbound rules
# name no local address.
$ErrorActionPreference = 'Stop'
Remove-NetFirewallRule -Group 'bindmgr' -ErrorAction SilentlyContinue

# Inbound: each listener's port on each bound address only
New-NetFirewallRule -Name 'bindmgr-SMTP-any' -DisplayName 'bindmgr-SMTP-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 25 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-POP3-any' -DisplayName 'bindmgr-POP3-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 110 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-IMAP-any' -DisplayName 'bindmgr-IMAP-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 143 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-ODMR-any' -DisplayName 'bindmgr-ODMR-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 366 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-SMTP-SSL-any' -DisplayName 'bindmgr-SMTP-SSL-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 465 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-MSA-any' -DisplayName 'bindmgr-MSA-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 587 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-IMAP-SSL-any' -DisplayName 'bindmgr-IMAP-SSL-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 993 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-POP3-SSL-any' -DisplayName 'bindmgr-POP3-SSL-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 995 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-Minger-any' -DisplayName 'bindmgr-Minger-any' -Group 'bindmgr' -Direction Inbound -Protocol UDP -LocalPort 4069 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-any' -DisplayName 'bindmgr-WorldClient-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 3000 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-HTTP-any' -DisplayName 'bindmgr-WorldClient-HTTP-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 80 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-HTTPS-any' -DisplayName 'bindmgr-WorldClient-HTTPS-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 443 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WebAdmin-any' -DisplayName 'bindmgr-WebAdmin-any' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalPort 1000 -Action Allow -Profile Any | Out-Null

# Outbound: the ports MDaemon connects to; replies come back as established
# traffic. These matter only where outbound traffic is blocked by default.
New-NetFirewallRule -Name 'bindmgr-out-DNS-udp' -DisplayName 'bindmgr-out-DNS-udp' -Description 'DNS lookups (MX, A, PTR)' -Group 'bindmgr' -Direction Outbound -Protocol UDP -RemotePort 53 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-DNS-tcp' -DisplayName 'bindmgr-out-DNS-tcp' -Description 'DNS answers too large for UDP' -Group 'bindmgr' -Direction Outbound -Protocol TCP -RemotePort 53 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-SMTP-tcp' -DisplayName 'bindmgr-out-SMTP-tcp' -Description 'delivery to other mail servers' -Group 'bindmgr' -Direction Outbound -Protocol TCP -RemotePort 25 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-POP3-tcp' -DisplayName 'bindmgr-out-POP3-tcp' -Description 'MultiPOP collection' -Group 'bindmgr' -Direction Outbound -Protocol TCP -RemotePort 110 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-ODMR-tcp' -DisplayName 'bindmgr-out-ODMR-tcp' -Description 'ODMR (ATRN)' -Group 'bindmgr' -Direction Outbound -Protocol TCP -RemotePort 366 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-POP3-SSL-tcp' -DisplayName 'bindmgr-out-POP3-SSL-tcp' -Description 'MultiPOP over SSL' -Group 'bindmgr' -Direction Outbound -Protocol TCP -RemotePort 995 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-Minger-udp' -DisplayName 'bindmgr-out-Minger-udp' -Description 'Minger queries to other servers' -Group 'bindmgr' -Direction Outbound -Protocol UDP -RemotePort 4069 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-BES-tcp' -DisplayName 'bindmgr-out-BES-tcp' -Description 'BES services' -Group 'bindmgr' -Direction Outbound -Protocol TCP -RemotePort 3101 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-Updates-HTTP-tcp' -DisplayName 'bindmgr-out-Updates-HTTP-tcp' -Description 'SA-Update, AV and Outbreak updates' -Group 'bindmgr' -Direction Outbound -Protocol TCP -RemotePort 80 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-out-Updates-FTP-tcp' -DisplayName 'bindmgr-out-Updates-FTP-tcp' -Description 'AV updates over FTP' -Group 'bindmgr' -Direction Outbound -Protocol TCP -RemotePort 21 -Action Allow -Profile Any | Out-Null
