package names

const (
	AttrName = "name"
	AttrTags = "tags"
)
