// Package schedule builds what a stack's scheduled jobs share: the DynamoDB table in which the
// instances race for each firing, so exactly one of them runs it (images/files job.sh).
package schedule

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// FiringsArgs configures the firings table.
type FiringsArgs struct {
	TableName string
	KeyARN    pulumi.StringInput // the stack key
	Protect   bool               // deletion protection, and protected in Pulumi
	Tags      map[string]string
}

// Firings is the table of job firings: one item a firing (key "firing": job@minute), written by
// the instance that runs it, with its state and exit code, expiring after a week.
type Firings struct {
	pulumi.ResourceState
	TableName pulumi.StringOutput `pulumi:"tableName"`
	TableARN  pulumi.StringOutput `pulumi:"tableArn"`
}

// NewFirings creates the table: on-demand (a few writes a firing), items expiring by TTL,
// encrypted with the stack key, with point-in-time recovery.
func NewFirings(ctx *pulumi.Context, name string, args *FiringsArgs, opts ...pulumi.ResourceOption) (*Firings, error) {
	if args == nil || args.TableName == "" || args.KeyARN == nil {
		return nil, fmt.Errorf("schedule %s: %w", name, errors.New("TableName and KeyARN are required"))
	}
	f := &Firings{}
	if err := ctx.RegisterComponentResource("immutable-edge:schedule:Firings", name, f, opts...); err != nil {
		return nil, err
	}
	table, err := dynamodb.NewTable(ctx, name+"-firings", &dynamodb.TableArgs{
		Name:                pulumi.String(args.TableName),
		BillingMode:         pulumi.String("PAY_PER_REQUEST"),
		HashKey:             pulumi.String("firing"),
		Attributes:          dynamodb.TableAttributeArray{dynamodb.TableAttributeArgs{Name: pulumi.String("firing"), Type: pulumi.String("S")}},
		Ttl:                 &dynamodb.TableTtlArgs{AttributeName: pulumi.String("expires"), Enabled: pulumi.Bool(true)},
		PointInTimeRecovery: &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		ServerSideEncryption: &dynamodb.TableServerSideEncryptionArgs{
			Enabled: pulumi.Bool(true), KmsKeyArn: args.KeyARN,
		},
		DeletionProtectionEnabled: pulumi.Bool(args.Protect),
		Tags:                      tags.Named(args.Tags, name+"-firings"),
	}, pulumi.Parent(f), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", name, err)
	}
	f.TableName, f.TableARN = table.Name, table.Arn
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"tableName": f.TableName, "tableArn": f.TableARN})
}
