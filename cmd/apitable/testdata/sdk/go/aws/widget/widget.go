package widget

type widgetState struct {
	Name  *string           `pulumi:"name"`
	Parts []string          `pulumi:"parts"`
	Size  *int              `pulumi:"size"`
	Tags  map[string]string `pulumi:"tags"`
}
