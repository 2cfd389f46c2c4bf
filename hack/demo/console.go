package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tenantops/tenant-operator/test/testenv"
)

// consoleURL is where the demo serves the signup console.
const consoleURL = "http://localhost:8090"

// consoleSA is the console's ServiceAccount as the chart makes it (installChart finds it).
var consoleSA string

// startConsole builds the app and runs `app console` as the chart's console ServiceAccount (its
// RBAC: create and read Tenants, read RegionCells), mail written to its log with the links
// (--print-links: local use only). It returns the log's path.
func startConsole(env *testenv.Env, dir string) (*exec.Cmd, string, error) {
	if consoleSA == "" {
		return nil, "", fmt.Errorf("the chart rendered no console ServiceAccount")
	}
	user, err := env.AddUser(envtest.User{Name: consoleSA, Groups: []string{"system:serviceaccounts", "system:authenticated"}}, nil)
	if err != nil {
		return nil, "", err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, "", err
	}
	kubeconfig := filepath.Join(dir, "console-kubeconfig")
	keyFile := filepath.Join(dir, "console-token-key")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)), 0o600); err != nil {
		return nil, "", err
	}
	bin := filepath.Join(dir, "app")
	if _, err := os.Stat(bin); err != nil {
		say("building the app (the console is its `console` command)")
		build := exec.Command("go", "build", "-o", bin, "./app")
		build.Dir, build.Stderr = testenv.Root(), os.Stderr
		if err := build.Run(); err != nil {
			return nil, "", fmt.Errorf("building the app: %w", err)
		}
	}
	logPath := filepath.Join(dir, "console.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "console", "--listen=127.0.0.1:8090", "--public-url="+consoleURL, "--base-domain=website.com",
		"--kubeconfig="+kubeconfig, "--token-key-file="+keyFile, "--mail-from=signup@website.com", "--print-links")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get("http://127.0.0.1:8090/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return nil, "", fmt.Errorf("the console did not answer within 30 s (its log: %s)", logPath)
		}
	}
	say("signup console at %s, as the chart's console ServiceAccount (log: %s)", consoleURL, logPath)
	return cmd, logPath, nil
}

var (
	csrfAttr = regexp.MustCompile(`data-csrf="([^"]+)"`)
	linkRE   = regexp.MustCompile(`https?://\S+/verify\?token=[^\s"\\]+`)
)

// signUpThroughConsole is a customer signing up through the console's JSON API, as the page
// does: the form, the link from the (logged) mail, the confirmation. It returns the Tenant's
// name.
func signUpThroughConsole(logPath, subdomain, region string) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "http://127.0.0.1:8090"
	resp, err := c.Get(base + "/")
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfAttr.FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("the signup page carries no CSRF token")
	}
	body, _ := json.Marshal(map[string]string{"company": "Pied Piper", "subdomain": subdomain, "region": region, "tier": "pooled", "adminEmail": "richard@piedpiper.example"})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/signups", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", string(m[1]))
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("signup: HTTP %d %s", resp.StatusCode, answer)
	}
	say("a customer signed up for %s through the console; the verification mail is in its log", subdomain)
	var link string
	for deadline := time.Now().Add(10 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		f, err := os.Open(logPath)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if l := linkRE.FindString(sc.Text()); l != "" && strings.Contains(sc.Text(), "richard@piedpiper.example") {
				link = l
			}
		}
		f.Close()
	}
	if link == "" {
		return fmt.Errorf("no verification link in %s", logPath)
	}
	u, err := url.Parse(link)
	if err != nil {
		return err
	}
	resp, err = c.PostForm(base+"/verify", url.Values{"csrf": {string(m[1])}, "token": {u.Query().Get("token")}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("confirming: HTTP %d", resp.StatusCode)
	}
	say("the customer followed the link and confirmed: the console created Tenant %s (see the table)", subdomain)
	return nil
}
