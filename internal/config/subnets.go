package config

import (
	"fmt"
	"net/netip"
)

// subnetBits splits the VPC into 16 equal blocks: public subnets take blocks 0..7 and
// private ones 8..15, so adding a zone later never moves an existing subnet.
const subnetBits = 4

// Subnets carves the VPC CIDR into one public and one private subnet per zone, keyed by zone.
// The address of a zone's subnet depends only on its position in zones.
func Subnets(vpcCIDR string, zones []string) (public, private map[string]string, err error) {
	p, err := netip.ParsePrefix(vpcCIDR)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("%q is not a CIDR block like 10.0.0.0/16", vpcCIDR)
	case !p.Addr().Is4():
		return nil, nil, fmt.Errorf("%q must be IPv4", vpcCIDR)
	case p.Masked() != p:
		return nil, nil, fmt.Errorf("%q has host bits set; did you mean %s?", vpcCIDR, p.Masked())
	case !isPrivate(p):
		return nil, nil, fmt.Errorf("%q is not in a private range (10/8, 172.16/12, 192.168/16)", vpcCIDR)
	case p.Bits() < 16 || p.Bits()+subnetBits > 28:
		return nil, nil, fmt.Errorf("%q must be /16../%d: it holds %d subnets of at least /28", vpcCIDR, 28-subnetBits, 1<<subnetBits)
	case len(zones) > 1<<(subnetBits-1):
		return nil, nil, fmt.Errorf("%q has room for %d zones, not %d", vpcCIDR, 1<<(subnetBits-1), len(zones))
	}
	public, private = map[string]string{}, map[string]string{}
	for i, z := range zones {
		public[z] = block(p, i).String()
		private[z] = block(p, i+1<<(subnetBits-1)).String()
	}
	return public, private, nil
}

// block returns the i-th subnet of size /(bits+subnetBits) inside p.
func block(p netip.Prefix, i int) netip.Prefix {
	a := p.Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(i) << (32 - p.Bits() - subnetBits)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), p.Bits()+subnetBits)
}

func isPrivate(p netip.Prefix) bool {
	for _, r := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
		rp := netip.MustParsePrefix(r)
		if rp.Contains(p.Addr()) && p.Bits() >= rp.Bits() {
			return true
		}
	}
	return false
}
