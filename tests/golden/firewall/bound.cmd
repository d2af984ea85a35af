@echo off
REM bindmgr firewall rules for MDaemon (netsh advfirewall; save as a .cmd file and run
REM it from an elevated prompt). A rerun replaces them: each rule is deleted by name
REM before it is added, and so are the rules of addresses that are no longer bound.
REM Never block loopback (127.0.0.1, ::1): MDaemon's parts talk to each other over it.
REM Windows Firewall leaves loopback alone by default: add no rule that blocks it.
REM No longer bound: 203.0.113.9

REM Delete what an earlier run added (no match is fine)
netsh advfirewall firewall delete rule name="bindmgr-SMTP-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-POP3-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-IMAP-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-ODMR-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-SMTP-SSL-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-MSA-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-IMAP-SSL-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-POP3-SSL-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-Minger-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-HTTP-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-HTTPS-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-WebAdmin-203.0.113.7" >nul
netsh advfirewall firewall delete rule name="bindmgr-SMTP-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-POP3-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-IMAP-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-ODMR-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-SMTP-SSL-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-MSA-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-IMAP-SSL-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-POP3-SSL-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-Minger-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-HTTP-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-HTTPS-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-WebAdmin-203.0.113.8" >nul
netsh advfirewall firewall delete rule name="bindmgr-SMTP-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-POP3-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-IMAP-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-ODMR-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-SMTP-SSL-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-MSA-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-IMAP-SSL-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-POP3-SSL-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-Minger-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-HTTP-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-HTTPS-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-WebAdmin-2001_db8__8" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-DNS-udp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-DNS-tcp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-SMTP-tcp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-POP3-tcp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-ODMR-tcp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-POP3-SSL-tcp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-Minger-udp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-BES-tcp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-Updates-HTTP-tcp" >nul
netsh advfirewall firewall delete rule name="bindmgr-out-Updates-FTP-tcp" >nul
netsh advfirewall firewall delete rule name="bindmgr-SMTP-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-POP3-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-IMAP-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-ODMR-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-SMTP-SSL-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-MSA-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-IMAP-SSL-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-POP3-SSL-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-Minger-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-HTTP-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-WorldClient-HTTPS-203.0.113.9" >nul
netsh advfirewall firewall delete rule name="bindmgr-WebAdmin-203.0.113.9" >nul

REM Inbound: each listener's port on each bound address only
netsh advfirewall firewall add rule name="bindmgr-SMTP-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=25 profile=any
netsh advfirewall firewall add rule name="bindmgr-POP3-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=110 profile=any
netsh advfirewall firewall add rule name="bindmgr-IMAP-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=143 profile=any
netsh advfirewall firewall add rule name="bindmgr-ODMR-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=366 profile=any
netsh advfirewall firewall add rule name="bindmgr-SMTP-SSL-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=465 profile=any
netsh advfirewall firewall add rule name="bindmgr-MSA-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=587 profile=any
netsh advfirewall firewall add rule name="bindmgr-IMAP-SSL-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=993 profile=any
netsh advfirewall firewall add rule name="bindmgr-POP3-SSL-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=995 profile=any
netsh advfirewall firewall add rule name="bindmgr-Minger-203.0.113.7" dir=in action=allow protocol=UDP localip=203.0.113.7 localport=4069 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=3000 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-HTTP-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=80 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-HTTPS-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=443 profile=any
netsh advfirewall firewall add rule name="bindmgr-WebAdmin-203.0.113.7" dir=in action=allow protocol=TCP localip=203.0.113.7 localport=1000 profile=any
netsh advfirewall firewall add rule name="bindmgr-SMTP-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=25 profile=any
netsh advfirewall firewall add rule name="bindmgr-POP3-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=110 profile=any
netsh advfirewall firewall add rule name="bindmgr-IMAP-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=143 profile=any
netsh advfirewall firewall add rule name="bindmgr-ODMR-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=366 profile=any
netsh advfirewall firewall add rule name="bindmgr-SMTP-SSL-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=465 profile=any
netsh advfirewall firewall add rule name="bindmgr-MSA-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=587 profile=any
netsh advfirewall firewall add rule name="bindmgr-IMAP-SSL-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=993 profile=any
netsh advfirewall firewall add rule name="bindmgr-POP3-SSL-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=995 profile=any
netsh advfirewall firewall add rule name="bindmgr-Minger-203.0.113.8" dir=in action=allow protocol=UDP localip=203.0.113.8 localport=4069 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=3000 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-HTTP-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=80 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-HTTPS-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=443 profile=any
netsh advfirewall firewall add rule name="bindmgr-WebAdmin-203.0.113.8" dir=in action=allow protocol=TCP localip=203.0.113.8 localport=1000 profile=any
netsh advfirewall firewall add rule name="bindmgr-SMTP-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=25 profile=any
netsh advfirewall firewall add rule name="bindmgr-POP3-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=110 profile=any
netsh advfirewall firewall add rule name="bindmgr-IMAP-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=143 profile=any
netsh advfirewall firewall add rule name="bindmgr-ODMR-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=366 profile=any
netsh advfirewall firewall add rule name="bindmgr-SMTP-SSL-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=465 profile=any
netsh advfirewall firewall add rule name="bindmgr-MSA-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=587 profile=any
netsh advfirewall firewall add rule name="bindmgr-IMAP-SSL-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=993 profile=any
netsh advfirewall firewall add rule name="bindmgr-POP3-SSL-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=995 profile=any
netsh advfirewall firewall add rule name="bindmgr-Minger-2001_db8__8" dir=in action=allow protocol=UDP localip=2001:db8::8 localport=4069 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=3000 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-HTTP-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=80 profile=any
netsh advfirewall firewall add rule name="bindmgr-WorldClient-HTTPS-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=443 profile=any
netsh advfirewall firewall add rule name="bindmgr-WebAdmin-2001_db8__8" dir=in action=allow protocol=TCP localip=2001:db8::8 localport=1000 profile=any

REM Outbound: the ports MDaemon connects to; replies come back as established
REM traffic. These matter only where outbound traffic is blocked by default.
netsh advfirewall firewall add rule name="bindmgr-out-DNS-udp" description="DNS lookups (MX, A, PTR)" dir=out action=allow protocol=UDP remoteport=53 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-DNS-tcp" description="DNS answers too large for UDP" dir=out action=allow protocol=TCP remoteport=53 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-SMTP-tcp" description="delivery to other mail servers" dir=out action=allow protocol=TCP remoteport=25 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-POP3-tcp" description="MultiPOP collection" dir=out action=allow protocol=TCP remoteport=110 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-ODMR-tcp" description="ODMR (ATRN)" dir=out action=allow protocol=TCP remoteport=366 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-POP3-SSL-tcp" description="MultiPOP over SSL" dir=out action=allow protocol=TCP remoteport=995 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-Minger-udp" description="Minger queries to other servers" dir=out action=allow protocol=UDP remoteport=4069 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-BES-tcp" description="BES services" dir=out action=allow protocol=TCP remoteport=3101 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-Updates-HTTP-tcp" description="SA-Update, AV and Outbreak updates" dir=out action=allow protocol=TCP remoteport=80 profile=any
netsh advfirewall firewall add rule name="bindmgr-out-Updates-FTP-tcp" description="AV updates over FTP" dir=out action=allow protocol=TCP remoteport=21 profile=any
