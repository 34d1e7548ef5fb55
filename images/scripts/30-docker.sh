#!/usr/bin/env bash
# Docker from the distribution's archive and the ECR credential helper, so the instance role
# pulls images without a stored password.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-get -y -q install --no-install-recommends docker.io amazon-ecr-credential-helper
# Debian 13 splits the client out of docker.io into docker-cli, only a Recommends there: the
# local build had a daemon and no /usr/bin/docker, which the service unit runs (found by the
# boot test, images/local).
if ! command -v docker >/dev/null; then
	apt-get -y -q install --no-install-recommends docker-cli
fi
command -v docker >/dev/null
systemctl enable docker.service
