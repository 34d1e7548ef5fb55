package widget

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/widget"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// @FrameworkResource("aws_gadget_rule", name="Gadget Rule")
func newGadgetRuleResource(context.Context) (resource.ResourceWithConfigure, error) {
	return &gadgetRuleResource{}, nil
}

type gadgetRuleResource struct {
	ruleResource
}

func (r *gadgetRuleResource) create(ctx context.Context) error {
	_ = &widget.CreateGadgetRuleInput{}
	return nil
}

type rule interface {
	create(context.Context) error
}

type ruleResource struct {
	rule
}

func (r *ruleResource) Create(ctx context.Context, request resource.CreateRequest, response *resource.CreateResponse) {
	_ = r.rule.create(ctx)
}

func (r *ruleResource) Read(ctx context.Context, request resource.ReadRequest, response *resource.ReadResponse) {
	_ = &widget.GetGadgetRuleInput{}
}

func (r *ruleResource) Schema(ctx context.Context, request resource.SchemaRequest, response *resource.SchemaResponse) {
	response.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"rule_name": schema.StringAttribute{Required: true},
		},
	}
}
