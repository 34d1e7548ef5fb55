// Package database builds a stack's managed PostgreSQL: an RDS instance in the private subnets
// behind its own security group, encrypted with the stack's key, with automated backups and
// its master password kept by RDS in Secrets Manager (never in the program, the plan or state).
package database

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// DatabaseArgs configures the database.
type DatabaseArgs struct {
	// Identifier names the instance (and its log group); it is unique in the account and region.
	Identifier    string
	Version       string // PostgreSQL major (or major.minor) version
	InstanceClass string
	StorageGB     int
	MaxStorageGB  int
	MultiAZ       bool
	BackupDays    int
	Name          string // the database created in the instance
	Username      string // the master user
	SubnetIDs     pulumi.StringArrayInput
	GroupID       pulumi.StringInput // the database's own security group
	KeyARN        pulumi.StringInput // the stack key: storage, the managed secret, the logs
	// Protect turns on deletion protection and a final snapshot on delete, and protects the
	// resource in Pulumi; off, pulumi destroy removes it and its data.
	Protect bool
	// LogDays is how long the exported PostgreSQL logs are kept.
	LogDays int
	Tags    map[string]string
}

// Database is the managed PostgreSQL of one stack.
type Database struct {
	pulumi.ResourceState
	Address pulumi.StringOutput `pulumi:"address"`
	Port    pulumi.IntOutput    `pulumi:"port"`
	// SecretARN is the RDS-managed secret holding {"username", "password"}.
	SecretARN pulumi.StringOutput `pulumi:"secretArn"`
	// InstanceARN scopes reads of the managed secret (its aws:rds:primaryDBInstanceArn tag).
	InstanceARN pulumi.StringOutput `pulumi:"instanceArn"`
}

func (a *DatabaseArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Identifier == "" || a.Name == "" || a.Username == "":
		return errors.New("Identifier, Name and Username are required")
	case a.SubnetIDs == nil || a.GroupID == nil || a.KeyARN == nil:
		return errors.New("SubnetIDs, GroupID and KeyARN are required")
	case a.BackupDays < 1:
		return errors.New("BackupDays must be at least 1: automated backups stay on")
	}
	return nil
}

// NewDatabase creates the subnet group, the log group and the instance.
func NewDatabase(ctx *pulumi.Context, name string, args *DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("database %s: %w", name, err)
	}
	d := &Database{}
	if err := ctx.RegisterComponentResource("immutable-edge:database:Database", name, d, opts...); err != nil {
		return nil, err
	}
	keep := []pulumi.ResourceOption{pulumi.Parent(d), pulumi.Protect(args.Protect)}
	subnets, err := rds.NewSubnetGroup(ctx, name+"-db", &rds.SubnetGroupArgs{
		NamePrefix:  pulumi.String(args.Identifier + "-"),
		Description: pulumi.String("private subnets of " + name + "'s database"),
		SubnetIds:   args.SubnetIDs,
		Tags:        tags.Named(args.Tags, name+"-db"),
	}, pulumi.Parent(d))
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", name, err)
	}
	// RDS writes exported logs to this group; made here first, it has a retention and the stack
	// key instead of the never-expiring group RDS would create
	// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html).
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-db-postgresql", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/rds/instance/" + args.Identifier + "/postgresql"),
		RetentionInDays: pulumi.Int(args.LogDays),
		KmsKeyId:        args.KeyARN,
		Tags:            tags.Named(args.Tags, name+"-db-postgresql"),
	}, keep...)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", name, err)
	}
	in := &rds.InstanceArgs{
		Identifier: pulumi.String(args.Identifier),
		Engine:     pulumi.String("postgres"),
		// With minor-version upgrades on, a major version alone lets RDS choose the minor and the
		// provider ignores the difference (aws_db_instance, engine_version).
		EngineVersion:           pulumi.String(args.Version),
		AutoMinorVersionUpgrade: pulumi.Bool(true),
		InstanceClass:           pulumi.String(args.InstanceClass),
		AllocatedStorage:        pulumi.Int(args.StorageGB),
		MaxAllocatedStorage:     pulumi.Int(args.MaxStorageGB),
		StorageType:             pulumi.String("gp3"),
		StorageEncrypted:        pulumi.Bool(true),
		KmsKeyId:                args.KeyARN,
		DbName:                  pulumi.String(args.Name),
		Username:                pulumi.String(args.Username),
		// RDS generates the password, keeps it in Secrets Manager under the stack key and rotates
		// it; the program never sees it
		// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
		ManageMasterUserPassword:         pulumi.Bool(true),
		MasterUserSecretKmsKeyId:         args.KeyARN,
		DbSubnetGroupName:                subnets.Name,
		VpcSecurityGroupIds:              pulumi.StringArray{args.GroupID},
		PubliclyAccessible:               pulumi.Bool(false),
		MultiAz:                          pulumi.Bool(args.MultiAZ),
		BackupRetentionPeriod:            pulumi.Int(args.BackupDays),
		BackupWindow:                     pulumi.String("02:00-02:30"),
		MaintenanceWindow:                pulumi.String("sun:03:00-sun:03:30"),
		CopyTagsToSnapshot:               pulumi.Bool(true),
		IamDatabaseAuthenticationEnabled: pulumi.Bool(true),
		EnabledCloudwatchLogsExports:     pulumi.StringArray{pulumi.String("postgresql")},
		DeletionProtection:               pulumi.Bool(args.Protect),
		SkipFinalSnapshot:                pulumi.Bool(!args.Protect),
		Tags:                             tags.Named(args.Tags, name+"-db"),
	}
	if args.Protect {
		in.FinalSnapshotIdentifier = pulumi.String(args.Identifier + "-final")
	}
	db, err := rds.NewInstance(ctx, name+"-db", in, append(keep, pulumi.DependsOn([]pulumi.Resource{logs}))...)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", name, err)
	}
	d.Address, d.Port, d.InstanceARN = db.Address, db.Port, db.Arn
	d.SecretARN = db.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"address": d.Address, "port": d.Port, "secretArn": d.SecretARN, "instanceArn": d.InstanceARN,
	})
}
