FROM debian:bookworm-slim
RUN <<EOF
set -eu
apt-get update
apt-get install -y curl
curl -fsSL https://example.com | tee /tmp/x
EOF
RUN <<'SCRIPT'
#!/usr/bin/env python3
import os
print(os.getcwd())
SCRIPT
RUN cat <<EOF > /etc/motd
sudo is not a command here, cd neither
EOF
COPY <<EOF /etc/app.conf
key = value
EOF
# hadolint ignore=DL3008,DL3015
RUN apt-get update && apt-get install -y nginx && rm -rf /var/lib/apt/lists/*
ONBUILD RUN sudo apt-get install -y foo
ONBUILD ADD config.yaml /etc/
USER nobody
CMD ["nginx", "-g", "daemon off;"]
