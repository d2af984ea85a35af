# bindmgr firewall rules for MDaemon (PowerShell, NetSecurity module; run as
# Administrator). A rerun replaces them: every rule of the group 'bindmgr' is removed
# first, so the rules of addresses that are no longer bound go too.
# Never block loopback (127.0.0.1, ::1): MDaemon's parts talk to each other over it.
# Windows Firewall leaves loopback alone by default: add no rule that blocks it.
# No longer bound: 203.0.113.9
$ErrorActionPreference = 'Stop'
Remove-NetFirewallRule -Group 'bindmgr' -ErrorAction SilentlyContinue

# Inbound: each listener's port on each bound address only
New-NetFirewallRule -Name 'bindmgr-SMTP-203.0.113.7' -DisplayName 'bindmgr-SMTP-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 25 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-POP3-203.0.113.7' -DisplayName 'bindmgr-POP3-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 110 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-IMAP-203.0.113.7' -DisplayName 'bindmgr-IMAP-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 143 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-ODMR-203.0.113.7' -DisplayName 'bindmgr-ODMR-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 366 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-SMTP-SSL-203.0.113.7' -DisplayName 'bindmgr-SMTP-SSL-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 465 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-MSA-203.0.113.7' -DisplayName 'bindmgr-MSA-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 587 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-IMAP-SSL-203.0.113.7' -DisplayName 'bindmgr-IMAP-SSL-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 993 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-POP3-SSL-203.0.113.7' -DisplayName 'bindmgr-POP3-SSL-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 995 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-Minger-203.0.113.7' -DisplayName 'bindmgr-Minger-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol UDP -LocalAddress 203.0.113.7 -LocalPort 4069 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-203.0.113.7' -DisplayName 'bindmgr-WorldClient-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 3000 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-HTTP-203.0.113.7' -DisplayName 'bindmgr-WorldClient-HTTP-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 80 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-HTTPS-203.0.113.7' -DisplayName 'bindmgr-WorldClient-HTTPS-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 443 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WebAdmin-203.0.113.7' -DisplayName 'bindmgr-WebAdmin-203.0.113.7' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.7 -LocalPort 1000 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-SMTP-203.0.113.8' -DisplayName 'bindmgr-SMTP-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 25 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-POP3-203.0.113.8' -DisplayName 'bindmgr-POP3-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 110 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-IMAP-203.0.113.8' -DisplayName 'bindmgr-IMAP-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 143 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-ODMR-203.0.113.8' -DisplayName 'bindmgr-ODMR-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 366 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-SMTP-SSL-203.0.113.8' -DisplayName 'bindmgr-SMTP-SSL-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 465 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-MSA-203.0.113.8' -DisplayName 'bindmgr-MSA-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 587 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-IMAP-SSL-203.0.113.8' -DisplayName 'bindmgr-IMAP-SSL-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 993 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-POP3-SSL-203.0.113.8' -DisplayName 'bindmgr-POP3-SSL-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 995 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-Minger-203.0.113.8' -DisplayName 'bindmgr-Minger-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol UDP -LocalAddress 203.0.113.8 -LocalPort 4069 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-203.0.113.8' -DisplayName 'bindmgr-WorldClient-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 3000 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-HTTP-203.0.113.8' -DisplayName 'bindmgr-WorldClient-HTTP-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 80 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-HTTPS-203.0.113.8' -DisplayName 'bindmgr-WorldClient-HTTPS-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 443 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WebAdmin-203.0.113.8' -DisplayName 'bindmgr-WebAdmin-203.0.113.8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 203.0.113.8 -LocalPort 1000 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-SMTP-2001_db8__8' -DisplayName 'bindmgr-SMTP-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 25 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-POP3-2001_db8__8' -DisplayName 'bindmgr-POP3-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 110 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-IMAP-2001_db8__8' -DisplayName 'bindmgr-IMAP-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 143 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-ODMR-2001_db8__8' -DisplayName 'bindmgr-ODMR-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 366 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-SMTP-SSL-2001_db8__8' -DisplayName 'bindmgr-SMTP-SSL-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 465 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-MSA-2001_db8__8' -DisplayName 'bindmgr-MSA-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 587 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-IMAP-SSL-2001_db8__8' -DisplayName 'bindmgr-IMAP-SSL-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 993 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-POP3-SSL-2001_db8__8' -DisplayName 'bindmgr-POP3-SSL-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 995 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-Minger-2001_db8__8' -DisplayName 'bindmgr-Minger-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol UDP -LocalAddress 2001:db8::8 -LocalPort 4069 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-2001_db8__8' -DisplayName 'bindmgr-WorldClient-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 3000 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-HTTP-2001_db8__8' -DisplayName 'bindmgr-WorldClient-HTTP-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 80 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WorldClient-HTTPS-2001_db8__8' -DisplayName 'bindmgr-WorldClient-HTTPS-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 443 -Action Allow -Profile Any | Out-Null
New-NetFirewallRule -Name 'bindmgr-WebAdmin-2001_db8__8' -DisplayName 'bindmgr-WebAdmin-2001_db8__8' -Group 'bindmgr' -Direction Inbound -Protocol TCP -LocalAddress 2001:db8::8 -LocalPort 1000 -Action Allow -Profile Any | Out-Null

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
