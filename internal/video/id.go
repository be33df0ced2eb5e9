package video

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/textcut"
)

// A video id is "video_" and the base64url (no padding) of a header (a
// version byte, the length of the submitting fal key's tag, the tag) and
// of the Ref as compact JSON sealed with AES-256-GCM under a key derived
// from a signing key, the header authenticated with it. It carries all
// that is needed to find the job at fal again, on any replica and after a
// restart, yet shows nothing of it (the prompt least of all), and cannot
// be forged or altered without the signing key. The key tag stays outside
// the seal: without SIGNING_KEY it says which fal key's derived key opens
// the id, and it reveals nothing of that key.
const (
	idPrefix  = "video_"
	idVersion = 2
	// tagSize is the length of an access tag.
	tagSize = 16
	// maxIDPrompt bounds the prompt an id carries, so that ids stay short.
	maxIDPrompt = 512
	// maxIDLength bounds what Open decodes.
	maxIDLength = 4096
)

// errUnknownID means an id is malformed, altered, of an unknown version,
// or sealed with a key this process does not hold.
var errUnknownID = errors.New("unknown video id")

// Ref is what a video id carries.
type Ref struct {
	Endpoint  string `json:"e"`
	RequestID string `json:"r"`
	// KeyTag is the tag of the fal key that submitted the job, in the
	// id's header.
	KeyTag []byte `json:"-"`
	// AccessTag is Key.AccessTag of the caller's access key; empty when
	// falproxy runs without access keys.
	AccessTag   []byte `json:"a,omitempty"`
	Model       string `json:"m"`
	Seconds     string `json:"s,omitempty"` // as generated
	Size        string `json:"z,omitempty"` // as requested
	CreatedAt   int64  `json:"c"`
	RemixedFrom string `json:"x,omitempty"`
	Prompt      string `json:"p"` // cut to maxIDPrompt bytes
	// Charged is what the submit recorded in the usage ledger, so that a
	// video fal did not make is refunded exactly that; nil when the
	// submit recorded no cost.
	Charged *Charge `json:"$,omitempty"`
}

// Charge is a ledger charge: units of a price's unit and their cost.
type Charge struct {
	Units      float64 `json:"u"`
	Unit       string  `json:"n,omitempty"`
	CostMicros int64   `json:"c"`
}

// Key seals and opens ids and binds them to access keys. It is made once
// per signing key, since making it derives its keys.
type Key struct {
	aead   cipher.AEAD
	access []byte // the HMAC key of access tags
}

// NewKey derives the keys of a signing key: one for AES-256-GCM, one for
// access tags, so that neither use weakens the other.
func NewKey(signing []byte) *Key {
	block, err := aes.NewCipher(derive(signing, "falproxy video id seal"))
	if err != nil {
		panic("video: " + err.Error()) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("video: " + err.Error())
	}
	return &Key{aead: aead, access: derive(signing, "falproxy video id access tag")}
}

// AccessTag binds an id to the access key that created it.
func (k *Key) AccessTag(accessKey string) []byte {
	if accessKey == "" {
		return nil
	}
	return derive(k.access, accessKey)[:tagSize]
}

// Seal makes the id of ref, sealed with key.
func Seal(ref Ref, key *Key) string {
	ref.Prompt = textcut.Bytes(ref.Prompt, maxIDPrompt)
	body, _ := json.Marshal(ref) // a Ref always encodes
	header := append([]byte{idVersion, byte(len(ref.KeyTag))}, ref.KeyTag...)
	nonce := make([]byte, key.aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails
	msg := append(header, nonce...)
	msg = key.aead.Seal(msg, nonce, body, header)
	return idPrefix + base64.RawURLEncoding.EncodeToString(msg)
}

// Open reads an id and opens it with the keys that keysFor gives for the
// fal key tag in its header (the keys depend on the fal key that
// submitted the job when no signing key is configured); it returns the
// Ref and the key that opened it, or errUnknownID.
func Open(id string, keysFor func(keyTag []byte) []*Key) (*Ref, *Key, error) {
	raw, ok := strings.CutPrefix(id, idPrefix)
	if !ok || len(id) > maxIDLength {
		return nil, nil, errUnknownID
	}
	msg, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(msg) < 2 || msg[0] != idVersion {
		return nil, nil, errUnknownID
	}
	end := 2 + int(msg[1])
	if len(msg) < end {
		return nil, nil, errUnknownID
	}
	header, keyTag := msg[:end], msg[2:end]
	for _, key := range keysFor(keyTag) {
		n := key.aead.NonceSize()
		if len(msg) < end+n+key.aead.Overhead() {
			return nil, nil, errUnknownID
		}
		body, err := key.aead.Open(nil, msg[end:end+n], msg[end+n:], header)
		if err != nil {
			continue
		}
		var ref Ref
		if json.Unmarshal(body, &ref) != nil {
			return nil, nil, errUnknownID
		}
		ref.KeyTag = slices.Clone(keyTag)
		return &ref, key, nil
	}
	return nil, nil, errUnknownID
}

// Owns reports, in constant time, whether accessKey made the video whose
// id key opened.
func (r *Ref) Owns(key *Key, accessKey string) bool {
	return subtle.ConstantTimeCompare(key.AccessTag(accessKey), r.AccessTag) == 1
}

// derive is HMAC-SHA256 of label under key.
func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}
