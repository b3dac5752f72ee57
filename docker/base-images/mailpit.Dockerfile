# Stand-in for axllent/mailpit (see docs/offline-images.md): Warren's SMTP capture (apps/smtp-capture, which
# answers Mailpit's API) on every interface, SMTP on 1025 and the API on 8025 as Mailpit has them, and `/mailpit
# readyz` as the health command. FROM the warren-smtp-capture image, built by build.mjs from this repository
# with docker/service.Dockerfile.
ARG CAPTURE_IMAGE=warren-smtp-capture:latest
FROM ${CAPTURE_IMAGE}
ARG FOR=axllent/mailpit:latest
LABEL org.warren.stand-in="true" org.warren.stand-in.for="${FOR}"
USER root
COPY mailpit.sh /mailpit
RUN chmod 755 /mailpit
USER node
EXPOSE 1025 8025
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=5 CMD ["/mailpit", "readyz"]
ENTRYPOINT ["/mailpit"]
CMD []
