package widget

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/widget"
)

// findWidget at the newer revision reads the widget's policy too.
func findWidget(ctx context.Context, id string) (any, error) {
	_ = &widget.GetWidgetPolicyInput{}
	return nil, waitWidget(ctx)
}
