#!/usr/bin/env bash
# certbot with the Route 53 DNS plugin (eip edge), the AWS CLI (the boot script's API calls) and
# the CloudWatch agent (metrics and logs).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-get -y -q install --no-install-recommends certbot python3-certbot-dns-route53

# Ubuntu 24.04 no longer packages the AWS CLI; the snap is Amazon's own build.
snap install aws-cli --classic
ln -sf /snap/bin/aws /usr/local/bin/aws

case "$ARCH" in
arm64) agent_arch=arm64 ;;
amd64) agent_arch=amd64 ;;
*)
	echo "unknown ARCH $ARCH" >&2
	exit 1
	;;
esac
deb=$(mktemp --suffix=.deb)
curl -fsSL -o "$deb" "https://s3.amazonaws.com/amazoncloudwatch-agent/ubuntu/$agent_arch/latest/amazon-cloudwatch-agent.deb"
dpkg -i "$deb"
rm -f "$deb"
