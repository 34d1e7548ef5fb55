package widget

import "context"

func findWidget(ctx context.Context, id string) (any, error) {
	return nil, waitWidget(ctx)
}
