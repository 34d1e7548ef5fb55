package edge

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// newCertificate requests an ACM certificate for the site's names, publishes the DNS validation
// records in the site's zone and waits for validation. The returned ARN is known only once the
// certificate is issued, so a listener using it never serves an unvalidated certificate.
//
// Pulumi replaces resources create-before-delete by default, so a changed name list gets a new
// certificate before the listener lets go of the old one (CKV_AWS_233).
func newCertificate(ctx *pulumi.Context, name string, s Site, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	cert, err := acm.NewCertificate(ctx, name+"-cert", &acm.CertificateArgs{
		DomainName:              pulumi.String(s.Domain),
		SubjectAlternativeNames: pulumi.ToStringArray(s.CertificateNames[1:]),
		ValidationMethod:        pulumi.String("DNS"),
		Options: &acm.CertificateOptionsArgs{
			CertificateTransparencyLoggingPreference: pulumi.String("ENABLED"), // CKV_AWS_234
		},
		Tags: tags.Named(s.Tags, name+"-cert"),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("certificate: %w", err)
	}
	// One record per name, created from the known name list (not inside an apply), so the
	// preview shows them; their contents come from ACM's validation options for that name.
	var fqdns pulumi.StringArray
	for _, n := range s.CertificateNames {
		option := func(field func(acm.CertificateDomainValidationOption) *string) pulumi.StringOutput {
			return cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) (string, error) {
				for _, o := range opts {
					if o.DomainName != nil && *o.DomainName == n && field(o) != nil {
						return *field(o), nil
					}
				}
				return "", fmt.Errorf("ACM returned no validation record for %s", n)
			}).(pulumi.StringOutput)
		}
		rec, err := route53.NewRecord(ctx, name+"-validation-"+recordName(n), &route53.RecordArgs{
			ZoneId:  pulumi.String(s.HostedZoneID),
			Name:    option(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordName }),
			Type:    option(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordType }),
			Records: pulumi.StringArray{option(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordValue })},
			Ttl:     pulumi.Int(300),
			// A record left over from an earlier certificate for the same name has the same value.
			AllowOverwrite: pulumi.Bool(true),
		}, parent)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("validation record %s: %w", n, err)
		}
		fqdns = append(fqdns, rec.Fqdn)
	}
	v, err := acm.NewCertificateValidation(ctx, name+"-cert", &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: fqdns,
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("certificate validation: %w", err)
	}
	return v.CertificateArn, nil
}
