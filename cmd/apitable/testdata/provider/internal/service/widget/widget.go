package widget

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/widget"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	tfother "github.com/hashicorp/terraform-provider-aws/internal/service/other"
	"github.com/hashicorp/terraform-provider-aws/names"
)

// @SDKResource("aws_widget", name="Widget")
// @Tags(identifierAttribute="arn", resourceType="Widget")
func resourceWidget() *schema.Resource {
	return &schema.Resource{
		CreateWithoutTimeout: resourceWidgetCreate,
		ReadWithoutTimeout:   resourceWidgetRead,
		DeleteWithoutTimeout: resourceWidgetDelete,
		CustomizeDiff:        validateWidget,

		Schema: map[string]*schema.Schema{
			names.AttrName: {Type: schema.TypeString, Required: true, ValidateFunc: validation.StringLenBetween(1, 32)},
			"size":         {Type: schema.TypeInt, Optional: true},
			"part": {
				Type:     schema.TypeList,
				Optional: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"label": {Type: schema.TypeString, Optional: true},
					},
				},
			},
			names.AttrTags: tagsSchema(),
		},
	}
}

func tagsSchema() *schema.Schema { return &schema.Schema{Type: schema.TypeMap, Optional: true} }

func resourceWidgetCreate(ctx context.Context, d *schema.ResourceData, meta any) error {
	input := &widget.CreateWidgetInput{}
	_ = input
	return resourceWidgetRead(ctx, d, meta)
}

func resourceWidgetRead(ctx context.Context, d *schema.ResourceData, meta any) error {
	_, err := findWidget(ctx, d.Id())
	return err
}

func resourceWidgetDelete(ctx context.Context, d *schema.ResourceData, meta any) error {
	_ = widget.NewListPartsPaginator(nil, nil)
	return tfother.Release(ctx)
}

func validateWidget(ctx context.Context, d *schema.ResourceDiff, meta any) error {
	_ = &widget.DescribeQuotaInput{}
	return nil
}

// unused is reached from no handler: its operation must not be in the table.
func unused() { _ = &widget.DestroyEverythingInput{} }
