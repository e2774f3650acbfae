package rest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// DefaultTokenTTL is how long a token from POST /bim/apikey/authenticate is valid.
const DefaultTokenTTL = time.Hour

// maxTokensPerUser bounds the live tokens of one user: issuing one more drops the
// oldest, so a client that authenticates in a loop cannot grow the table.
const maxTokensPerUser = 64

// Authenticator maps the API key a request presents to a user (see docs/security.md,
// Credentials).
type Authenticator interface {
	// Authenticate returns the profile id the key authenticates, or ok false.
	Authenticate(apiKey string) (userID int64, ok bool)
}

// AuthenticatorFunc adapts a function to an Authenticator.
type AuthenticatorFunc func(apiKey string) (int64, bool)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(apiKey string) (int64, bool) { return f(apiKey) }

// EngineKeys returns the Authenticator of e's directory: a key authenticates the
// user whose APIKeyHash is the key's SHA-256 (model.HashAPIKey), compared in
// constant time. A user without a hash cannot authenticate with a key; a hash held
// by two users authenticates neither. Keys are never stored, logged or answered.
func EngineKeys(e *engine.Engine) Authenticator { return &engineKeys{e: e} }

type engineKeys struct {
	e   *engine.Engine
	idx atomic.Pointer[keyIndex]
}

// keyIndex maps key hashes to users for one snapshot; ambiguous hashes map to 0.
type keyIndex struct {
	snap   *engine.Snapshot
	byHash map[string]int64
}

func (k *engineKeys) Authenticate(apiKey string) (int64, bool) {
	if apiKey == "" {
		return 0, false
	}
	hash := model.HashAPIKey(apiKey)
	s := k.e.Snapshot()
	idx := k.idx.Load()
	if idx == nil || idx.snap != s {
		// A hit in an older index still holds when the user keeps that hash now;
		// only a miss pays for rebuilding the index on the current snapshot.
		if idx != nil {
			if id, ok := idx.byHash[hash]; ok && id != 0 && sameHash(s, id, hash) {
				return id, true
			}
		}
		idx = buildKeyIndex(s)
		k.idx.Store(idx)
	}
	id, ok := idx.byHash[hash]
	if !ok || id == 0 || !sameHash(s, id, hash) {
		return 0, false
	}
	return id, true
}

func buildKeyIndex(s *engine.Snapshot) *keyIndex {
	idx := &keyIndex{snap: s, byHash: map[string]int64{}}
	for _, id := range s.UserIDs() {
		u, ok := s.User(id)
		if !ok || u.APIKeyHash == "" {
			continue
		}
		if _, dup := idx.byHash[u.APIKeyHash]; dup {
			idx.byHash[u.APIKeyHash] = 0
			continue
		}
		idx.byHash[u.APIKeyHash] = id
	}
	return idx
}

// sameHash reports, in constant time, whether user id of s holds key hash hash.
func sameHash(s *engine.Snapshot, id int64, hash string) bool {
	u, ok := s.User(id)
	return ok && subtle.ConstantTimeCompare([]byte(u.APIKeyHash), []byte(hash)) == 1
}

// tokenStore holds the bearer tokens of POST /bim/apikey/authenticate, in memory
// only, by their SHA-256.
type tokenStore struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	byHash  map[[sha256.Size]byte]tokenEntry
	perUser map[int64][][sha256.Size]byte // oldest first
}

type tokenEntry struct {
	user    int64
	keyHash string // the user's APIKeyHash when the token was issued
	expires time.Time
}

func newTokenStore(ttl time.Duration, now func() time.Time) *tokenStore {
	return &tokenStore{ttl: ttl, now: now, byHash: map[[sha256.Size]byte]tokenEntry{},
		perUser: map[int64][][sha256.Size]byte{}}
}

// issue returns a new random token (256 bits) for user, valid for the TTL while
// the user keeps keyHash.
func (t *tokenStore) issue(user int64, keyHash string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	h := sha256.Sum256([]byte(tok))
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	live := t.perUser[user][:0:0]
	for _, old := range t.perUser[user] {
		if e, ok := t.byHash[old]; ok && now.Before(e.expires) {
			live = append(live, old)
		} else {
			delete(t.byHash, old)
		}
	}
	for len(live) >= maxTokensPerUser {
		delete(t.byHash, live[0])
		live = live[1:]
	}
	t.byHash[h] = tokenEntry{user: user, keyHash: keyHash, expires: now.Add(t.ttl)}
	t.perUser[user] = append(live, h)
	return tok, nil
}

// lookup returns the token's entry while it is valid.
func (t *tokenStore) lookup(tok string) (tokenEntry, bool) {
	h := sha256.Sum256([]byte(tok))
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byHash[h]
	if !ok {
		return tokenEntry{}, false
	}
	if !now.Before(e.expires) {
		delete(t.byHash, h)
		return tokenEntry{}, false
	}
	return e, true
}

// authenticate maps the request's Authorization header to a user: an API key, or
// "Bearer " followed by an API key or a token. The errors never quote the header.
func (h *handler) authenticate(r *http.Request) (int64, error) {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if v == "" {
		return 0, statusError(http.StatusUnauthorized, "missing Authorization header (an API key, or Bearer and a token or key)")
	}
	if scheme, cred, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
		cred = strings.TrimSpace(cred)
		if e, ok := h.tokens.lookup(cred); ok {
			if u, ok := h.e.Snapshot().User(e.user); ok &&
				subtle.ConstantTimeCompare([]byte(u.APIKeyHash), []byte(e.keyHash)) == 1 {
				return e.user, nil
			}
			return 0, statusError(http.StatusUnauthorized, "the token's user or key has changed; authenticate again")
		}
		v = cred
	}
	if id, ok := h.auth.Authenticate(v); ok && id > 0 { // id 0 is nobody, never the system actor
		return id, nil
	}
	return 0, statusError(http.StatusUnauthorized, "unknown API key or token")
}

type authenticateResponse struct {
	Authenticated bool   `json:"authenticated"`
	Token         string `json:"token"`
}

// authenticateKey serves POST /bim/apikey/authenticate {"apikey": K}: a token for
// a known key, 401 for an unknown one. It needs no Authorization header.
func (h *handler) authenticateKey(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := query(r); err != nil {
		return nil, err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	key, err := model.DecodeAuthenticate(body, h.cfg.limits)
	if err != nil {
		return nil, err
	}
	id, ok := h.auth.Authenticate(key)
	if !ok || id <= 0 {
		return nil, statusError(http.StatusUnauthorized, "unknown API key")
	}
	var keyHash string
	if u, ok := h.e.Snapshot().User(id); ok {
		keyHash = u.APIKeyHash
	}
	tok, err := h.tokens.issue(id, keyHash)
	if err != nil {
		return nil, err
	}
	return authenticateResponse{Authenticated: true, Token: tok}, nil
}
