package other

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/widget"
)

// Release is another service package's function the widget's delete calls.
func Release(ctx context.Context) error {
	_ = &widget.ReleaseWidgetInput{}
	return nil
}
