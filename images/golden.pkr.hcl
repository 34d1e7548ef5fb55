# The golden AMI: Debian 13 (trixie) with HAProxy, Docker, certbot and the immutable-edge runtime
# scripts. Every instance of every stack starts from an image built here; nothing is installed
# at boot. Build it through a stack with image.build: true, or by hand (docs/golden-image.md).

packer {
  required_plugins {
    amazon = {
      version = "= 1.8.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}

variable "region" {
  type        = string
  default     = "eu-central-1"
  description = "Region the AMI is built and published in."
}

variable "architecture" {
  type        = string
  default     = "arm64"
  description = "CPU architecture: arm64 (Graviton) or amd64."
  validation {
    condition     = contains(["arm64", "amd64"], var.architecture)
    error_message = "The architecture must be arm64 or amd64."
  }
}

variable "channel" {
  type        = string
  default     = "dev"
  description = "Release channel the image is built for (dev, prod); recorded in its name and tags."
}

variable "subnet_id" {
  type        = string
  description = "Subnet the build instance runs in: the building stack's public subnet (components/image passes it). Required, so no build falls back to a default VPC."
  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "The subnet_id must be a subnet id (subnet-...)."
  }
}

variable "image_manifest" {
  type        = string
  default     = "image-manifest.json"
  description = "Where the build puts the manifest it downloads from the image: every installed package and each verified download with its version."
}

variable "instance_profile" {
  type        = string
  default     = "immutable-edge-image-builder"
  description = "Instance profile of the build instance, made by account/ (Session Manager only)."
}

variable "git_revision" {
  type        = string
  default     = "unknown"
  description = "Source revision of images/, recorded as a tag."
}

variable "volume_size" {
  type        = number
  default     = 8
  description = "Root volume size of the image in GiB; instances may ask for more."
}

locals {
  build_time    = formatdate("YYYYMMDDhhmmss", timestamp())
  instance_type = var.architecture == "arm64" ? "t4g.small" : "t3.small"
  # What the build downloads outside apt, pinned; scripts/40-certbot-aws.sh verifies each
  # against its publisher's signature (trust/fingerprints). A new version is a change here.
  cloudwatch_agent_version = "1.300072.0b1766"
  aws_cli_version          = "2.27.49"
  # The SSM agent comes first, in the build instance's user-data (ssm-agent.sh.pkrtpl), since
  # Packer connects through it; verified with the same script against the pinned key.
  ssm_agent_version = "3.3.5226.0"
  ssm_agent_bootstrap = templatefile("${path.root}/ssm-agent.sh.pkrtpl", {
    version        = local.ssm_agent_version
    arch           = var.architecture
    fingerprint    = regex("(?m)^amazon-ssm-agent ([0-9A-F]{40})$", file("${path.root}/trust/fingerprints"))[0]
    key            = base64encode(file("${path.root}/trust/amazon-ssm-agent.asc"))
    fetch_verified = base64encode(file("${path.root}/trust/fetch-verified.sh"))
  })
  # Stack is the building stack, whose channel this is: the deploy roles act only on resources
  # tagged with their own stack (account/setup), so the build instance, its temporary group and
  # key pair, and the image and snapshots it makes are the building stack's, and no other
  # stack's role can deregister them. Launching reads an image whatever its tags: prod runs the
  # images it promotes from dev. The Channel tag is what image retention goes by.
  tags = {
    Name         = "immutable-edge-${var.channel}-${var.architecture}"
    Project      = "immutable-edge"
    Stack        = var.channel
    Channel      = var.channel
    Architecture = var.architecture
    GitRevision  = var.git_revision
    BuildTime    = local.build_time
    # Tag values hold at most 256 characters: the full package list is the image manifest.
    CloudWatchAgentVersion = local.cloudwatch_agent_version
    AwsCliVersion          = local.aws_cli_version
    SsmAgentVersion        = local.ssm_agent_version
  }
}

source "amazon-ebs" "golden" {
  region        = var.region
  ami_name      = "immutable-edge-${var.channel}-${var.architecture}-${local.build_time}"
  instance_type = local.instance_type

  # Debian's official AMIs (https://wiki.debian.org/Cloud/AmazonEC2Image/Trixie: account
  # 136693071363, names debian-13-<arch>-<date>-<build>), the distribution images/local builds
  # and boots, so what the boot tests run is what ships.
  source_ami_filter {
    filters = {
      name                = "debian-13-${var.architecture}-*"
      architecture        = var.architecture == "arm64" ? "arm64" : "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["136693071363"] # Debian
    most_recent = true
  }

  # The stack's own public subnet: the VPC and zone follow from it, so no default VPC is
  # needed. Packer creates a temporary security group in that VPC with no inbound rule (with
  # Session Manager it skips the SSH rule: packer-plugin-amazon v1.8.0 builder/ebs/builder.go,
  # SkipSSHRuleCreation = SSMAgentEnabled()) and AWS's default all-outbound rule, for apt and
  # the downloads, and deletes it after the build.
  subnet_id = var.subnet_id

  # The builder connects through Session Manager with a key pair made for this build only:
  # no inbound port is opened and no long-lived key exists. The Debian AMI has no SSM agent:
  # the user-data installs it, signature-checked, and Packer waits for it (ssh_timeout covers
  # apt and the download). Debian's AMIs log in as admin.
  communicator                = "ssh"
  ssh_username                = "admin"
  ssh_interface               = "session_manager"
  ssh_timeout                 = "15m"
  user_data                   = local.ssm_agent_bootstrap
  temporary_key_pair_type     = "ed25519"
  associate_public_ip_address = true
  # Session Manager needs an instance profile. account/ creates this one (Session Manager
  # actions only); Packer's temporary profiles cannot carry the permissions boundary the deploy
  # roles require of every role they create.
  iam_instance_profile = var.instance_profile

  imds_support = "v2.0" # instances launched from the AMI default to IMDSv2
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  encrypt_boot = true
  # Debian registers its AMIs with root device /dev/xvda (debian-cloud-images upload_ec2.py,
  # root_device_name='/dev/xvda'; read in the GoCarrot/debian-cloud-images mirror at 039ee854).
  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = var.volume_size
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }

  tags            = merge(local.tags, { SourceAMI = "{{ .SourceAMI }}", SourceAMIName = "{{ .SourceAMIName }}" })
  run_tags        = local.tags
  snapshot_tags   = local.tags
  run_volume_tags = local.tags
}

build {
  sources = ["source.amazon-ebs.golden"]

  provisioner "file" {
    source      = "files/"
    destination = "/tmp/immutable-edge-files"
  }

  provisioner "file" {
    source      = "trust/"
    destination = "/tmp/immutable-edge-trust"
  }

  provisioner "shell" {
    execute_command = "sudo -E bash '{{ .Path }}'"
    environment_vars = [
      "ARCH=${var.architecture}",
      "FILES=/tmp/immutable-edge-files",
      "TRUST=/tmp/immutable-edge-trust",
      "CHANNEL=${var.channel}",
      "GIT_REVISION=${var.git_revision}",
      "CLOUDWATCH_AGENT_VERSION=${local.cloudwatch_agent_version}",
      "AWS_CLI_VERSION=${local.aws_cli_version}",
    ]
    scripts = [
      "scripts/10-base.sh",
      "scripts/20-haproxy.sh",
      "scripts/30-docker.sh",
      "scripts/40-certbot-aws.sh",
      "scripts/50-runtime.sh",
      "scripts/80-manifest.sh",
      "scripts/90-cleanup.sh",
    ]
  }

  # The manifest 80-manifest.sh wrote stays in the image; a copy comes back for the build log.
  provisioner "file" {
    direction   = "download"
    source      = "/usr/share/immutable-edge/image-manifest.json"
    destination = var.image_manifest
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
    custom_data = {
      channel                  = var.channel
      architecture             = var.architecture
      git_revision             = var.git_revision
      cloudwatch_agent_version = local.cloudwatch_agent_version
      aws_cli_version          = local.aws_cli_version
      ssm_agent_version        = local.ssm_agent_version
    }
  }
}
