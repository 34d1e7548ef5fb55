#!/usr/bin/env bash
# Docker from Ubuntu's archive and the ECR credential helper, so the instance role pulls images
# without a stored password.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-get -y -q install --no-install-recommends docker.io amazon-ecr-credential-helper
systemctl enable docker.service
