// Package edge is where traffic enters a stack. Two implementations share one interface:
// ALB (prod: an internet-facing load balancer with an ACM certificate) and EIP (dev: one
// instance that claims an Elastic IP and terminates TLS itself). The stack picks one from
// config and hands what the fleet and the instances need to them, without a mode switch.
package edge

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Edge is implemented by *ALB and *EIP.
type Edge interface {
	pulumi.ComponentResource
	// URL is the public address of the product, https://<domain>.
	URL() pulumi.StringOutput
	// Address is what the DNS records point at: the ALB's DNS name or the Elastic IP.
	Address() pulumi.StringOutput
	// TargetGroupARNs are the target groups the fleet registers with; nil for the EIP edge.
	TargetGroupARNs() pulumi.StringArrayInput
	// Instance is what an instance must know about the edge, for user-data and its role.
	Instance() InstanceSide
	// Telemetry is where the edge's own CloudWatch metrics are, for alarms and the dashboard.
	Telemetry() Telemetry
}

// Telemetry names the edge's CloudWatch dimensions; its outputs are set only for the alb edge.
type Telemetry struct {
	Mode string // "alb" or "eip"
	// LoadBalancer and TargetGroup are the AWS/ApplicationELB dimension values (ARN suffixes).
	LoadBalancer, TargetGroup pulumi.StringOutput
	// Certificate is the ACM certificate ARN (AWS/CertificateManager DaysToExpiry).
	Certificate pulumi.StringOutput
}

// InstanceSide is the edge's data for the instances. Empty outputs mean "not for this edge".
type InstanceSide struct {
	Mode string // "alb" or "eip"
	// AllocationID is the Elastic IP the instance claims once its health gate passes.
	AllocationID pulumi.StringOutput
	// CertBucket (name) and CertBucketARN hold the instance's Let's Encrypt state under CertPrefix.
	CertBucket    pulumi.StringOutput
	CertBucketARN pulumi.StringOutput
	CertPrefix    string
	// CertKeyARN is the key the certificate state is encrypted with.
	CertKeyARN pulumi.StringOutput
}

// Mode names, as in the stack config.
const (
	ModeALB = "alb"
	ModeEIP = "eip"
)

// Site is what both edges serve: the names, the zone they live in, and where the instances listen.
type Site struct {
	Domain       string
	HostedZoneID string
	// CertificateNames are covered by the certificate, the domain first.
	CertificateNames []string
	// RecordNames get DNS records pointing at the edge.
	RecordNames []string
	// NamePrefix starts the bucket names (project-stack), so the deploy role can be scoped to them.
	NamePrefix string
	// Disposable lets `pulumi destroy` remove the edge's address and its buckets with every
	// object version in them (throwaway stacks; policy rule IE_PROTECT reports it). By default
	// they are protected and a bucket is never force-emptied.
	Disposable bool
	Tags       map[string]string
}

func (s Site) validate() []string {
	var missing []string
	if s.Domain == "" {
		missing = append(missing, "Domain")
	}
	if s.HostedZoneID == "" {
		missing = append(missing, "HostedZoneID")
	}
	if len(s.CertificateNames) == 0 || s.CertificateNames[0] != s.Domain {
		missing = append(missing, "CertificateNames (the domain first)")
	}
	if s.NamePrefix == "" {
		missing = append(missing, "NamePrefix")
	}
	if len(s.RecordNames) == 0 {
		missing = append(missing, "RecordNames")
	}
	return missing
}
