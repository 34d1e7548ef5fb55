package elb

import "github.com/aws/aws-sdk-go/aws/endpoints"

var AccountIdPerRegionMap = map[string]string{
	endpoints.EuCentral1RegionID: "054676820928",
	endpoints.UsGovWest1RegionID: "048591011584",
}
