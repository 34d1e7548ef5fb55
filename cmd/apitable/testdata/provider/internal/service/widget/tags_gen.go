package widget

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/widget"
)

type servicePackage struct{}

// ListTags is what the tagging interceptor calls on read.
func (p *servicePackage) ListTags(ctx context.Context, meta any, identifier, resourceType string) error {
	switch resourceType {
	case "Widget":
		_ = &widget.ListWidgetTagsInput{}
	case "Gadget":
		_ = &widget.ListGadgetTagsInput{}
	}
	return nil
}

// UpdateTags is what the tagging interceptor calls on create and update.
func (p *servicePackage) UpdateTags(ctx context.Context, meta any, identifier, resourceType string, oldTags, newTags any) error {
	return updateTags(ctx, identifier, resourceType)
}

func updateTags(ctx context.Context, identifier, resourceType string) error {
	switch resourceType {
	case "Widget":
		_ = &widget.TagWidgetInput{}
	case "Gadget":
		_ = &widget.TagGadgetInput{}
	}
	return nil
}
