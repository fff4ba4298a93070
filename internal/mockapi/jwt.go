package mockapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"time"

	"github.com/google/uuid"
	"k8s.io/apiserver/pkg/authentication/user"
)

// The issuer and audience of a kube-apiserver started with the usual
// --service-account-issuer=https://kubernetes.default.svc.cluster.local.
const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// credentialIDKey is the user extra that names the token an identity came from.
const credentialIDKey = "authentication.kubernetes.io/credential-id"

// tokenSigner signs service-account tokens as JWTs, so that clients which decode them (kubectl,
// Rancher, jwt tools) see what a real cluster issues. Authentication does not verify the
// signature: a token is valid while its cluster remembers issuing it. ES256 (a key type
// kube-apiserver accepts for --service-account-signing-key-file) signs in tens of
// microseconds where RS256 takes a millisecond: thousands of clusters mint a token at start.
type tokenSigner struct {
	once sync.Once
	key  *ecdsa.PrivateKey
	kid  string
	err  error
}

func (s *tokenSigner) init() error {
	s.once.Do(func() {
		s.key, s.err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if s.err == nil {
			pub, err := s.key.PublicKey.Bytes()
			if err != nil {
				s.err = err
				return
			}
			sum := sha256.Sum256(pub)
			s.kid = base64.RawURLEncoding.EncodeToString(sum[:])
		}
	})
	return s.err
}

func (s *tokenSigner) sign(claims interface{}) (string, error) {
	if err := s.init(); err != nil {
		return "", err
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": s.kid})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	r, ss, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 signatures are r and s as two fixed 32-byte big-endian halves.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

type saRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

type boundClaims struct {
	Audience  []string `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	Issuer    string   `json:"iss"`
	ID        string   `json:"jti"`
	K8s       struct {
		Namespace      string `json:"namespace"`
		ServiceAccount saRef  `json:"serviceaccount"`
	} `json:"kubernetes.io"`
	NotBefore int64  `json:"nbf"`
	Subject   string `json:"sub"`
}

// issueBoundToken mints a TokenRequest token for a service account, valid for ttl.
func (c *Cluster) issueBoundToken(ns, name, uid string, audiences []string, ttl time.Duration) (string, time.Time, error) {
	now := time.Now()
	exp := now.Add(ttl)
	cl := boundClaims{Audience: audiences, ExpiresAt: exp.Unix(), IssuedAt: now.Unix(), Issuer: serviceAccountIssuer,
		ID: uuid.New().String(), NotBefore: now.Unix(), Subject: "system:serviceaccount:" + ns + ":" + name}
	cl.K8s.Namespace = ns
	cl.K8s.ServiceAccount = saRef{Name: name, UID: uid}
	tok, err := c.signer.sign(cl)
	if err != nil {
		return "", time.Time{}, err
	}
	u := serviceAccountUser(ns, name, uid).(*user.DefaultInfo)
	u.Extra = map[string][]string{credentialIDKey: {"JTI=" + cl.ID}}
	c.addToken(tok, issuedToken{user: u, saUID: uid, expires: exp})
	return tok, exp, nil
}

// issueSecretToken mints a legacy (non-expiring) token for a service-account token Secret, or
// for the service account alone when secret is "".
func (c *Cluster) issueSecretToken(ns, secret, sa, uid string) (string, error) {
	tok, err := c.signer.sign(map[string]string{
		"iss":                                    "kubernetes/serviceaccount",
		"kubernetes.io/serviceaccount/namespace": ns,
		"kubernetes.io/serviceaccount/secret.name":          secret,
		"kubernetes.io/serviceaccount/service-account.name": sa,
		"kubernetes.io/serviceaccount/service-account.uid":  uid,
		"sub": "system:serviceaccount:" + ns + ":" + sa,
	})
	if err != nil {
		return "", err
	}
	t := issuedToken{user: serviceAccountUser(ns, sa, uid), saUID: uid}
	if secret != "" {
		t.secret = ns + "/" + secret
	}
	c.addToken(tok, t)
	return tok, nil
}
