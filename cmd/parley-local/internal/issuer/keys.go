package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Key file names inside Options.Dir, prefixed in case Dir is shared with
// other local data.
const (
	rsaFile = "issuer-rs256.pem"
	ecFile  = "issuer-es256.pem"
)

func loadKeys(dir string) (*rsa.PrivateKey, *ecdsa.PrivateKey, error) {
	genRSA := func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }
	genEC := func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	if dir == "" {
		r, err := genRSA()
		if err != nil {
			return nil, nil, fmt.Errorf("generate RSA key: %w", err)
		}
		e, err := genEC()
		if err != nil {
			return nil, nil, fmt.Errorf("generate P-256 key: %w", err)
		}
		return r.(*rsa.PrivateKey), e.(*ecdsa.PrivateKey), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create key folder: %w", err)
	}
	r, err := loadOrCreate(filepath.Join(dir, rsaFile), genRSA)
	if err != nil {
		return nil, nil, err
	}
	rk, ok := r.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() < 2048 {
		return nil, nil, fmt.Errorf("%s: want an RSA key of at least 2048 bits", filepath.Join(dir, rsaFile))
	}
	e, err := loadOrCreate(filepath.Join(dir, ecFile), genEC)
	if err != nil {
		return nil, nil, err
	}
	ek, ok := e.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, nil, fmt.Errorf("%s: want a P-256 ECDSA key", filepath.Join(dir, ecFile))
	}
	return rk, ek, nil
}

// loadOrCreate reads a PKCS#8 PEM private key, or generates and saves one.
// A file that exists but cannot be read is an error, not a reason to
// replace it: replacing would silently invalidate every token out there.
func loadOrCreate(path string, generate func() (crypto.Signer, error)) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return parseKey(path, b)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read key: %w", err)
	}
	key, err := generate()
	if err != nil {
		return nil, fmt.Errorf("generate key for %s: %w", path, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key for %s: %w", path, err)
	}
	won, err := writeOnce(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		return nil, fmt.Errorf("save key: %w", err)
	}
	if !won { // another process saved its key first: use that one
		return loadOrCreate(path, generate)
	}
	return key, nil
}

func parseKey(path string, b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: no PEM PRIVATE KEY block (delete the file to get a new key)", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (delete the file to get a new key)", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not a signing key", path, key)
	}
	return signer, nil
}

// writeOnce creates path holding data, readable by its owner only, unless
// path already exists (won is then false). The data is written to a
// temporary file and linked into place, so no reader ever sees half a key,
// and a crash leaves no corrupt file behind.
func writeOnce(path string, data []byte) (won bool, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".issuer-key-*") // mode 0600
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	default:
		// Some filesystems have no hard links; rename is atomic too, it
		// only loses the race with a concurrent start rather than joining it.
		return true, os.Rename(tmp.Name(), path)
	}
}

var b64 = base64.RawURLEncoding

// rsaThumbprint is the RFC 7638 thumbprint of an RSA key: SHA-256 over its
// required members, in lexical order, without whitespace.
func rsaThumbprint(k *rsa.PublicKey) string {
	n, e := rsaMembers(k)
	return thumbprint(fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, e, n))
}

func ecThumbprint(k *ecdsa.PublicKey) (string, error) {
	x, y, err := ecMembers(k)
	if err != nil {
		return "", err
	}
	return thumbprint(fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, x, y)), nil
}

func thumbprint(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return b64.EncodeToString(sum[:])
}

func rsaMembers(k *rsa.PublicKey) (n, e string) {
	eb := []byte{byte(k.E >> 24), byte(k.E >> 16), byte(k.E >> 8), byte(k.E)}
	for len(eb) > 1 && eb[0] == 0 { // minimal big-endian, as RFC 7518 wants
		eb = eb[1:]
	}
	return b64.EncodeToString(k.N.Bytes()), b64.EncodeToString(eb)
}

// ecMembers returns x and y, each the full 32 bytes as RFC 7518 requires.
func ecMembers(k *ecdsa.PublicKey) (x, y string, err error) {
	point, err := k.Bytes() // 0x04 || x || y
	if err != nil || len(point) != 65 {
		return "", "", fmt.Errorf("encode P-256 public key: %v", err)
	}
	return b64.EncodeToString(point[1:33]), b64.EncodeToString(point[33:]), nil
}
