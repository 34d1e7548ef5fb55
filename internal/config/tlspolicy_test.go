package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// weakness says why a cipher (OpenSSL or IANA TLS 1.3 name) fails the bar, or "" when it meets it.
func weakness(cipher string) string {
	switch {
	case strings.HasPrefix(cipher, "TLS_"):
		return "" // TLS 1.3 suites are AEAD with (EC)DHE by the protocol
	case !strings.HasPrefix(cipher, "ECDHE-"):
		return "RSA key exchange"
	case !strings.Contains(cipher, "-GCM-") && !strings.Contains(cipher, "CHACHA20-POLY1305"):
		return "CBC"
	case strings.HasSuffix(cipher, "-SHA"):
		return "SHA-1"
	}
	return ""
}

func TestSSLPoliciesMeetTheBar(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range SSLPolicies {
		require.False(t, seen[p.Name], "%s listed twice", p.Name)
		seen[p.Name] = true
		require.Contains(t, p.Protocols, "TLSv1.3", p.Name)
		for _, proto := range p.Protocols {
			require.Contains(t, []string{"TLSv1.2", "TLSv1.3"}, proto, "%s offers %s", p.Name, proto)
		}
		require.NotEmpty(t, p.Ciphers, p.Name)
		for _, c := range p.Ciphers {
			require.Empty(t, weakness(c), "%s offers %s", p.Name, c)
		}
	}
	require.Contains(t, SSLPolicyNames(), DefaultSSLPolicy)
}

// The bar itself bites: each weak suite AWS's wider policies add is refused by weakness.
func TestWeaknessRefusesTheWiderPoliciesCiphers(t *testing.T) {
	for cipher, why := range map[string]string{
		"ECDHE-ECDSA-AES128-SHA256": "CBC",              // TLS13-1-2-2021-06
		"AES128-GCM-SHA256":         "RSA key exchange", // TLS13-1-2-Ext1-2021-06
		"ECDHE-RSA-AES128-SHA":      "CBC",              // TLS13-1-2-Ext2-2021-06 (and SHA-1)
		"AES256-SHA":                "RSA key exchange",
	} {
		require.Equal(t, why, weakness(cipher), cipher)
	}
}
