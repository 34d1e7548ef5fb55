package edge

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// recordName turns a DNS name into a resource name part: dots become dashes.
func recordName(n string) string { return strings.ReplaceAll(n, ".", "-") }

// aliasRecords points each name at a load balancer with alias A records.
func aliasRecords(ctx *pulumi.Context, name string, s Site, dnsName, zoneID pulumi.StringInput, parent pulumi.ResourceOption) error {
	for _, n := range s.RecordNames {
		if _, err := route53.NewRecord(ctx, name+"-a-"+recordName(n), &route53.RecordArgs{
			ZoneId: pulumi.String(s.HostedZoneID),
			Name:   pulumi.String(n),
			Type:   pulumi.String("A"),
			Aliases: route53.RecordAliasArray{&route53.RecordAliasArgs{
				Name: dnsName, ZoneId: zoneID,
				EvaluateTargetHealth: pulumi.Bool(true), // Route 53 answers only while targets are healthy
			}},
		}, parent); err != nil {
			return fmt.Errorf("record %s: %w", n, err)
		}
	}
	return nil
}

// addressRecords points each name at an IP address with plain A records; a short TTL lets a
// changed address (a new stack) take effect quickly.
func addressRecords(ctx *pulumi.Context, name string, s Site, ip pulumi.StringInput, parent pulumi.ResourceOption) error {
	for _, n := range s.RecordNames {
		if _, err := route53.NewRecord(ctx, name+"-a-"+recordName(n), &route53.RecordArgs{
			ZoneId:  pulumi.String(s.HostedZoneID),
			Name:    pulumi.String(n),
			Type:    pulumi.String("A"),
			Ttl:     pulumi.Int(60),
			Records: pulumi.StringArray{ip},
		}, parent); err != nil {
			return fmt.Errorf("record %s: %w", n, err)
		}
	}
	return nil
}
