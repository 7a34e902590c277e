package secret_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"meshc.dev/meshc/compiler/secret"
)

func keys(t *testing.T) map[string][]byte {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"rsa pkcs1": x509.MarshalPKCS1PrivateKey(rsaKey),
		"ec sec1":   ecDER,
		"ed pkcs8":  edDER,
	}
}

func certificatePEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// fold wraps s at width columns, each further line indented, as a YAML
// writer folds a long scalar.
func fold(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width])
		b.WriteString("\n    ")
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}

func TestFindsKeysInEveryDisguise(t *testing.T) {
	cert := certificatePEM(t)
	for name, der := range keys(t) {
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		cases := map[string]string{
			"pem":                       "data:\n  key: |\n" + string(pemKey),
			"base64 pem":                "caBundle: " + base64.StdEncoding.EncodeToString(pemKey),
			"base64 cert then key":      base64.StdEncoding.EncodeToString(append(append([]byte{}, cert...), pemKey...)),
			"base64 one byte then key":  base64.StdEncoding.EncodeToString(append([]byte("x"), pemKey...)),
			"base64 two bytes then key": base64.StdEncoding.EncodeToString(append([]byte("xy"), pemKey...)),
			"folded base64 pem":         "  caBundle: " + fold(base64.StdEncoding.EncodeToString(pemKey), 60),
			"base64 der":                "tls.key: " + base64.StdEncoding.EncodeToString(der) + "\n",
			"openssh":                   "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
		}
		for what, text := range cases {
			if !secret.Contains(text) {
				t.Errorf("%s, %s: key not found in %q", name, what, text)
			}
		}
	}
}

func TestPublicMaterialIsNotAKey(t *testing.T) {
	cert := certificatePEM(t)
	for what, text := range map[string]string{
		"pem certificate":    string(cert),
		"base64 certificate": base64.StdEncoding.EncodeToString(cert),
		"public key":         "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n",
		"prose":              "a private key is never written; MIIs and base64 look-alikes are fine",
		"placeholder":        "caBundle: Q0xVU1RFUjEtQ0EtUEVNLVBMQUNFSE9MREVS",
	} {
		if f, ok := secret.Find([]byte(text)); ok {
			t.Errorf("%s: found %s at %d", what, f.What, f.Offset)
		}
	}
}
