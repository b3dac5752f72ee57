#!/bin/sh
# `/mailpit` as Mailpit's image has it: no argument runs the servers, `readyz` checks the running one.
# MP_SMTP_BIND_ADDR and MP_UI_BIND_ADDR (host:port) move them, as they do Mailpit's.
smtp_port=${MP_SMTP_BIND_ADDR##*:}
http_port=${MP_UI_BIND_ADDR##*:}
case "${1:-}" in
  readyz) exec node /app/healthcheck.mjs "http://127.0.0.1:${http_port:-8025}/readyz" ;;
  '') exec node --enable-source-maps /app/dist/app/main.js --host 0.0.0.0 --smtp-port "${smtp_port:-1025}" --http-port "${http_port:-8025}" ;;
  *) echo "mailpit stand-in (Warren's SMTP capture): only 'readyz' is supported, got '$1'" >&2; exit 2 ;;
esac
