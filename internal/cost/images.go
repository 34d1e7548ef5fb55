package cost

import (
	"strconv"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// ImageGB is the golden image's root volume (images/golden.pkr.hcl, variable volume_size): the
// most one image's snapshot can hold.
const ImageGB = 8.0

// priceImages prices the golden images' snapshots on the stack that builds them (image.build):
// the images its retention command keeps (image.keep, with its default applied: the command's
// KEEP), each at most the image's volume. Images another stack's parameter or a rollback
// window still uses stay longer; they are most often among those. A stack that only reads its
// image (prod runs the AMI dev built and promotes; images/promote.sh copies the id, not the
// image) stores nothing, and says so on its launch template, so the snapshots are counted once.
func priceImages(p *plan.Plan, add func(plan.Resource, float64, string, ...any)) {
	var retention []plan.Resource
	for _, r := range p.OfType("command:local:Command") {
		if parent, ok := p.ByURN(r.Parent); ok && parent.Type == "immutable-edge:image:GoldenImage" && r.Str("environment.KEEP") != "" {
			retention = append(retention, r)
		}
	}
	if len(retention) == 0 {
		for _, lt := range p.OfType("aws:ec2/launchTemplate:LaunchTemplate") {
			add(lt, 0, "AMI snapshots: none stored by this stack; the stack that builds the image (image.build: true) keeps and pays for them")
		}
		return
	}
	for _, r := range retention {
		keep, err := strconv.ParseFloat(r.Str("environment.KEEP"), 64)
		if err != nil {
			continue // the image component writes a whole number; a test's odd plan prices nothing
		}
		add(r, keep*ImageGB*snapshotGBMonth.USD,
			"AMI snapshots: %v images kept (image.keep) × %.0f GB, the image's volume (images/golden.pkr.hcl) × $%.3f/GB-month: an upper bound, snapshots bill only the blocks written",
			keep, ImageGB, snapshotGBMonth.USD)
	}
}
