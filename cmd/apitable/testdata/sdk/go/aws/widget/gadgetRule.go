package widget

type gadgetRuleState struct {
	RuleName *string `pulumi:"ruleName"`
}
