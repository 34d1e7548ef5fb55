#!/usr/bin/env bash
# certbot with the Route 53 DNS plugin (eip edge), from the distribution's archive (apt checks
# its signatures); the AWS CLI (the boot script's API calls) and the CloudWatch agent (metrics
# and logs) from Amazon, each at the version golden.pkr.hcl pins and installed only after its
# publisher's signature checks out against the key fingerprint in trust/fingerprints.
# Environment: ARCH, TRUST (trust/ on the build instance), CLOUDWATCH_AGENT_VERSION, AWS_CLI_VERSION.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${TRUST:?}" "${CLOUDWATCH_AGENT_VERSION:?}" "${AWS_CLI_VERSION:?}"

apt-get -y -q install --no-install-recommends certbot python3-certbot-dns-route53

# The local build (images/local) reaches no Amazon server: it skips the CloudWatch agent and
# takes the AWS CLI v2 from Debian's archive (awscli), signed by apt, and says so.
if [[ ${IE_LOCAL_BUILD:-} == 1 ]]; then
	apt-get -y -q install --no-install-recommends awscli
	echo "40-certbot-aws.sh: local build: no CloudWatch agent; $(aws --version) from the distribution" >&2
	exit 0
fi

case "$ARCH" in
arm64) cli_arch=aarch64 ;;
amd64) cli_arch=x86_64 ;;
*)
	echo "unknown ARCH $ARCH" >&2
	exit 1
	;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verified NAME VERSION URL OUT KEYFILE downloads URL to OUT if its signature checks out against
# NAME's pinned fingerprint, and records it for the image manifest (80-manifest.sh).
verified() {
	local fpr
	fpr=$(awk -v name="$1" '$1 == name { print $2 }' "$TRUST/fingerprints")
	"$TRUST/fetch-verified.sh" "$3" "$4" "$5" "$fpr"
	install -d -m 0700 /var/lib/immutable-edge-build
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(sha256sum "$4" | cut -d' ' -f1)" "$fpr" >>/var/lib/immutable-edge-build/downloads.tsv
}

# The CloudWatch agent at its pinned version; the release notes' link pattern
# (aws/amazon-cloudwatch-agent Tools/release/downloading-links.md.template), the signature next
# to it and Amazon's key as the agent's signature page publishes them. The key file is fetched
# over HTTPS from the same bucket, and used only when its fingerprint is the pinned one. The
# ubuntu/ path: the release template (at 7e771892) lists debian/ for amd64 only, and the .deb
# is one package for both (a Go binary with no distribution dependencies).
agent_bucket=https://s3.amazonaws.com/amazoncloudwatch-agent
curl -fsSL --proto =https --retry 3 -o "$work/agent.gpg" "$agent_bucket/assets/amazon-cloudwatch-agent.gpg"
verified amazon-cloudwatch-agent "$CLOUDWATCH_AGENT_VERSION" \
	"$agent_bucket/ubuntu/$ARCH/$CLOUDWATCH_AGENT_VERSION/amazon-cloudwatch-agent.deb" "$work/agent.deb" "$work/agent.gpg"
version=$(dpkg-deb -f "$work/agent.deb" Version)
if [[ $version != "$CLOUDWATCH_AGENT_VERSION" && $version != "$CLOUDWATCH_AGENT_VERSION"-* ]]; then
	echo "the agent package is version $version, not the pinned $CLOUDWATCH_AGENT_VERSION" >&2
	exit 1
fi
dpkg -i "$work/agent.deb"

# The AWS CLI v2 at its pinned version, from Amazon's signed installer (Debian's awscli is
# not pinned to Amazon's releases): the past-release URL pattern of
# https://docs.aws.amazon.com/cli/latest/userguide/getting-started-version.html, and the key
# committed in trust/aws-cli.asc.
verified aws-cli "$AWS_CLI_VERSION" \
	"https://awscli.amazonaws.com/awscli-exe-linux-$cli_arch-$AWS_CLI_VERSION.zip" "$work/awscli.zip" "$TRUST/aws-cli.asc"
unzip -q "$work/awscli.zip" -d "$work"
"$work/aws/install" --install-dir /usr/local/aws-cli --bin-dir /usr/local/bin
installed=$(/usr/local/bin/aws --version)
if [[ $installed != "aws-cli/$AWS_CLI_VERSION "* ]]; then
	echo "the AWS CLI reports '$installed', not the pinned $AWS_CLI_VERSION" >&2
	exit 1
fi
