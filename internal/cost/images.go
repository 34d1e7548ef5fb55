package cost

import (
	"encoding/json"
	"fmt"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// ImageGB is the golden image's root volume (images/golden.pkr.hcl, variable volume_size): the
// most one image's snapshot can hold.
const ImageGB = 8.0

// DefaultImageKeep is how many images a channel keeps when the stack config sets no image.keep.
const DefaultImageKeep = 3

// keyImage is the structured config key whose keep field is the channel's image retention.
const keyImage = "immutable-edge:image"

// priceImages prices the golden images' snapshots on the stack that builds them (image.build):
// the images the channel keeps, each at most the image's volume. A stack that only reads its
// image (prod runs the AMI dev built and promotes; images/promote.sh copies the id, not the
// image) stores nothing, and says so on its launch template, so the snapshots are counted once.
func priceImages(p *plan.Plan, add func(plan.Resource, float64, string, ...any)) {
	var builds []plan.Resource
	for _, r := range p.OfType("command:local:Command") {
		if parent, ok := p.ByURN(r.Parent); ok && parent.Type == "immutable-edge:image:GoldenImage" {
			builds = append(builds, r)
		}
	}
	if len(builds) == 0 {
		for _, lt := range p.OfType("aws:ec2/launchTemplate:LaunchTemplate") {
			add(lt, 0, "AMI snapshots: none stored by this stack; the stack that builds the image (image.build: true) keeps and pays for them")
		}
		return
	}
	keep, source := imageKeep(p.Config)
	for _, b := range builds {
		add(b, keep*ImageGB*snapshotGBMonth.USD,
			"AMI snapshots: %v images kept (%s) × %.0f GB, the image's volume (images/golden.pkr.hcl) × $%.3f/GB-month: an upper bound, snapshots bill only the blocks written",
			keep, source, ImageGB, snapshotGBMonth.USD)
	}
}

// imageKeep reads image.keep from the stack config, or assumes DefaultImageKeep and says so.
func imageKeep(cfg plan.Config) (float64, string) {
	var image struct {
		Keep *float64 `json:"keep"`
	}
	if err := json.Unmarshal([]byte(cfg[keyImage]), &image); err == nil && image.Keep != nil && *image.Keep > 0 {
		return *image.Keep, "image.keep"
	}
	return DefaultImageKeep, fmt.Sprintf("image.keep unset: %d, its default, assumed", DefaultImageKeep)
}
