// Package secret finds private key material in text: PEM private key
// blocks written as they are, the same base64-encoded (as a kubeconfig's
// certificate-authority-data or a Secret's data would carry them, at any
// alignment and folded over lines), and base64 DER private keys. meshc's
// output is committed to Git, so the loader refuses a topology holding a
// key anywhere, and the compiler scans every byte it emits for one before
// anything is written: the last line of defence.
//
// secret imports nothing of meshc's.
package secret

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
)

// Finding is one piece of key material: its byte offset in the text
// scanned and what it is.
type Finding struct {
	Offset int
	What   string
}

const pemBegin = "-----BEGIN "

// encodedBegins are "-----BEGIN " base64-encoded after 0, 1 and 2 other
// bytes, without the characters those bytes or the next ones change: the
// three ways the start of a PEM block shows inside base64 text.
var encodedBegins = func() [3][]byte {
	var out [3][]byte
	for k := range 3 {
		plain := append(make([]byte, k), pemBegin...)
		enc := base64.StdEncoding.EncodeToString(plain)
		from := 0
		if k > 0 {
			from = 4 // the group shared with the preceding bytes
		}
		out[k] = []byte(enc[from : 4*(len(plain)/3)])
	}
	return out
}()

// Find returns the first piece of private key material in data, if any.
func Find(data []byte) (Finding, bool) {
	if i := pemKey(data); i >= 0 {
		return Finding{Offset: i, What: "a PEM private key"}, true
	}
	for k, marker := range encodedBegins {
		for off := 0; ; {
			i := bytes.Index(data[off:], marker)
			if i < 0 {
				break
			}
			at := off + i
			start := at
			if k > 0 {
				start -= 4
			}
			if start >= 0 {
				if dec := decodeFrom(data, start, 400); pemKey(dec) >= 0 {
					return Finding{Offset: start, What: "a base64-encoded PEM private key"}, true
				}
			}
			off = at + len(marker)
		}
	}
	// A DER key in base64 starts with an ASN.1 SEQUENCE, which base64
	// writes as an "M" starting a word.
	for at := range data {
		if data[at] != 'M' || at > 0 && isBase64(data[at-1]) || !sequenceStart(data[at:]) {
			continue
		}
		if dec := decodeFrom(data, at, 16<<10); derKey(dec) {
			return Finding{Offset: at, What: "a base64-encoded DER private key"}, true
		}
	}
	return Finding{}, false
}

// Contains reports whether s holds private key material.
func Contains(s string) bool {
	_, ok := Find([]byte(s))
	return ok
}

// pemKey returns the offset of the first BEGIN line of a PEM private key
// ("PRIVATE KEY", "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PGP PRIVATE
// KEY BLOCK", ...) in data, or -1.
func pemKey(data []byte) int {
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(pemBegin))
		if i < 0 {
			return -1
		}
		begin := off + i
		line := data[begin:]
		if nl := bytes.IndexAny(line, "\r\n"); nl >= 0 {
			line = line[:nl]
		}
		if bytes.Contains(line, []byte("PRIVATE KEY")) {
			return begin
		}
		off = begin + len(pemBegin)
	}
}

// decodeFrom decodes up to limit base64 characters of data from start,
// skipping line breaks and indentation (YAML folds long strings) and
// stopping at the first other byte or at padding.
func decodeFrom(data []byte, start, limit int) []byte {
	// Grown as the text goes, not made at limit: most candidates are a
	// word such as "META" (the istiod injection template names dozens of
	// ISTIO_META_ variables), and 16 KiB for each was most of the scan.
	var enc []byte
scan:
	for i := start; i < len(data) && len(enc) < limit; i++ {
		switch b := data[i]; {
		case b == '\n' || b == '\r' || b == ' ' || b == '\t':
		case b == '=':
			enc = append(enc, b)
			if len(enc)%4 == 0 {
				break scan // padding ends the encoded text
			}
		case isBase64(b) && (len(enc) == 0 || enc[len(enc)-1] != '='):
			enc = append(enc, b)
		default:
			break scan
		}
	}
	enc = enc[:len(enc)-len(enc)%4]
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(dec, enc)
	if err != nil {
		// Decode stops at the first bad quantum; what came before stands.
		if ce, ok := err.(base64.CorruptInputError); ok {
			good := int(ce) / 4 * 4
			n, _ = base64.StdEncoding.Decode(dec, enc[:good])
		}
	}
	return dec[:n]
}

// sequenceStart tells whether base64 text starts with the encoding of a
// DER SEQUENCE long enough for a key: a cheap filter before decoding.
func sequenceStart(text []byte) bool {
	if len(text) < 4 {
		return false
	}
	var head [3]byte
	if _, err := base64.StdEncoding.Decode(head[:], text[:4]); err != nil {
		return false
	}
	return head[0] == 0x30 && (head[1] >= 0x2e && head[1] < 0x80 || head[1] == 0x81 || head[1] == 0x82)
}

// derKey reports whether der starts with a private key of a kind Go knows.
func derKey(der []byte) bool {
	if len(der) < 4 || der[0] != 0x30 {
		return false
	}
	// The SEQUENCE's own length says where the key ends.
	size := 0
	switch l := der[1]; {
	case l < 0x80:
		size = 2 + int(l)
	case l == 0x81:
		size = 3 + int(der[2])
	case l == 0x82:
		size = 4 + (int(der[2])<<8 | int(der[3]))
	default:
		return false
	}
	if size > len(der) {
		return false
	}
	der = der[:size]
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParseECPrivateKey(der)
	return err == nil
}

func isBase64(b byte) bool {
	return 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '+' || b == '/' || b == '='
}
