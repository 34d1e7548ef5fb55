package widget

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/widget"
)

type stateConf struct{ Refresh func() error }

func waitWidget(ctx context.Context) error {
	conf := stateConf{Refresh: statusWidget(ctx)}
	return conf.Refresh()
}

func statusWidget(ctx context.Context) func() error {
	return func() error {
		_ = &widget.DescribeWidgetsInput{}
		return nil
	}
}
