# The golden AMI: Ubuntu 24.04 LTS with HAProxy, Docker, certbot and the immutable-edge runtime
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
  tags = {
    Name         = "immutable-edge-${var.channel}-${var.architecture}"
    Project      = "immutable-edge"
    Channel      = var.channel
    Architecture = var.architecture
    GitRevision  = var.git_revision
    BuildTime    = local.build_time
  }
}

source "amazon-ebs" "golden" {
  region        = var.region
  ami_name      = "immutable-edge-${var.channel}-${var.architecture}-${local.build_time}"
  instance_type = local.instance_type

  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${var.architecture}-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720109477"] # Canonical
    most_recent = true
  }

  # The builder connects through Session Manager with a key pair made for this build only:
  # no inbound port is opened and no long-lived key exists.
  communicator                = "ssh"
  ssh_username                = "ubuntu"
  ssh_interface               = "session_manager"
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
  launch_block_device_mappings {
    device_name           = "/dev/sda1"
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

  provisioner "shell" {
    execute_command  = "sudo -E bash '{{ .Path }}'"
    environment_vars = ["ARCH=${var.architecture}", "FILES=/tmp/immutable-edge-files"]
    scripts = [
      "scripts/10-base.sh",
      "scripts/20-haproxy.sh",
      "scripts/30-docker.sh",
      "scripts/40-certbot-aws.sh",
      "scripts/50-runtime.sh",
      "scripts/90-cleanup.sh",
    ]
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
    custom_data = {
      channel      = var.channel
      architecture = var.architecture
      git_revision = var.git_revision
    }
  }
}
