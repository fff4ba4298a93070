package rancher

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Credentials authenticate the client: a Rancher API token, or a local user's name and
// password that the client exchanges for a token when it first needs one. The fields are
// unexported and String and GoString redact, so a Credentials (or a Config holding one) can
// be logged or printed with any verb without leaking the secret.
type Credentials struct {
	token    secret // "token-xxxxx:<secret>" (or ext/<name>:<secret> on 2.12+)
	username string
	password secret
}

// TokenAuth is an API token as Rancher shows it when the key is created: "token-xxxxx:<secret>".
func TokenAuth(token string) Credentials {
	return Credentials{token: secret(strings.TrimSpace(token))}
}

// LoginAuth logs in as a local user (POST /v3-public/localProviders/local?action=login).
func LoginAuth(username, password string) Credentials {
	return Credentials{username: username, password: secret(password)}
}

// IsZero reports whether no credentials were given.
func (c Credentials) IsZero() bool { return c.token == "" && c.username == "" }

func (c Credentials) isLogin() bool { return c.token == "" && c.username != "" }

// String names the credentials without the secret: the token's access key (token-xxxxx, the
// part before the colon, which Rancher shows in its token list) or the user name.
func (c Credentials) String() string {
	switch {
	case c.token != "":
		key, _, ok := strings.Cut(string(c.token), ":")
		if !ok || key == "" || strings.ContainsAny(key, " \t") || len(key) > 64 {
			return "token(REDACTED)"
		}
		return "token(" + key + ":REDACTED)"
	case c.username != "":
		return fmt.Sprintf("login(%s, password REDACTED)", c.username)
	}
	return "none"
}

// GoString keeps %#v from printing the secret.
func (c Credentials) GoString() string { return "rancher.Credentials{" + c.String() + "}" }

// secret is a string that prints redacted, so a stray %v of a struct holding one is safe.
type secret string

func (s secret) String() string {
	if s == "" {
		return ""
	}
	return "REDACTED"
}

func (s secret) GoString() string { return `"` + s.String() + `"` }

// loginRequest is the body of the local provider's login action.
type loginRequest struct {
	Username     string `json:"username"`
	Password     string `json:"password"`
	ResponseType string `json:"responseType"`
	Description  string `json:"description,omitempty"`
}

// loginResponse is what Rancher answers (recorded: 201 {"baseType":"token","expiresAt":...,
// "id":...,"token":"token-xxxxx:...","type":"token"}).
type loginResponse struct {
	Token     secret `json:"token"`
	ExpiresAt Time   `json:"expiresAt"`
}

// bearer returns the token to send: the API token, the one a login gave, or a fresh login's.
// Concurrent callers share one login; waiting for it honours ctx.
func (c *Client) bearer(ctx context.Context) (secret, error) {
	if c.creds.token != "" || !c.creds.isLogin() {
		return c.creds.token, nil
	}
	if tok := c.loginToken(); tok != "" {
		return tok, nil
	}
	select {
	case c.loginSem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.loginSem }()
	if tok := c.loginToken(); tok != "" {
		return tok, nil // someone else logged in while we waited
	}
	return c.login(ctx)
}

func (c *Client) loginToken() secret {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// forgetLogin drops a login token Rancher rejected, unless another goroutine already
// replaced it, so that the next call logs in again.
func (c *Client) forgetLogin(tok secret) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

// Login exchanges the username and password for a token now rather than at the first call,
// so that wrong credentials show at start-up. With an API token it does nothing.
func (c *Client) Login(ctx context.Context) error {
	_, err := c.bearer(ctx)
	return err
}

func (c *Client) login(ctx context.Context) (secret, error) {
	var out loginResponse
	err := c.do(ctx, &request{
		method: http.MethodPost,
		path:   "/v3-public/localProviders/local",
		query:  map[string][]string{"action": {"login"}},
		body: loginRequest{
			Username:     c.creds.username,
			Password:     string(c.creds.password),
			ResponseType: "token",
			Description:  c.userAgent,
		},
		public: true,
	}, &out)
	if err != nil {
		return "", fmt.Errorf("log in to %s as %q: %w", c.base.Redacted(), c.creds.username, err)
	}
	if out.Token == "" {
		return "", fmt.Errorf("log in to %s as %q: the response has no token", c.base.Redacted(), c.creds.username)
	}
	c.mu.Lock()
	c.token = out.Token
	c.mu.Unlock()
	c.log.WithField("user", c.creds.username).WithField("expiresAt", out.ExpiresAt.Time).Info("logged in to Rancher")
	return out.Token, nil
}

// Logout deletes the token a login created (POST /v3/tokens?action=logout), so that runs do
// not pile up tokens in Rancher. With an API token, or before any login, it does nothing.
func (c *Client) Logout(ctx context.Context) error {
	if !c.creds.isLogin() || c.loginToken() == "" {
		return nil
	}
	err := c.do(ctx, &request{method: http.MethodPost, path: "/v3/tokens", query: map[string][]string{"action": {"logout"}}, noRelogin: true}, nil)
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
	if err != nil && !IsUnauthorized(err) {
		return fmt.Errorf("log out of %s: %w", c.base.Redacted(), err)
	}
	return nil
}
