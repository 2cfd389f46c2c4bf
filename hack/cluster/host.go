package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// sysctls the kubelet, kube-proxy and the CNI bridge plugin may change; `up` records them once and
// `down` writes them back.
var sysctls = []string{
	"kernel/panic", "kernel/panic_on_oops", "vm/overcommit_memory", "vm/panic_on_oom",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
	"net/ipv4/ip_forward", "net/ipv4/conf/all/route_localnet",
	"net/netfilter/nf_conntrack_max", "net/netfilter/nf_conntrack_tcp_timeout_established",
	"net/netfilter/nf_conntrack_tcp_timeout_close_wait",
	"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
}

func (l layout) savedHost() string { return l.p("host-before.json") }

// saveHost records the sysctls as they are before the cluster touches them (once: a second `up`
// over a running cluster must not record the cluster's values).
func (l layout) saveHost() error {
	if _, err := os.Stat(l.savedHost()); err == nil {
		return nil
	}
	saved := map[string]string{}
	for _, s := range sysctls {
		if b, err := os.ReadFile(filepath.Join("/proc/sys", s)); err == nil {
			saved[s] = strings.TrimSpace(string(b))
		}
	}
	b, _ := json.MarshalIndent(saved, "", "  ")
	return writeFile(l.savedHost(), string(b), 0o644)
}

// restoreHost writes back every recorded sysctl that differs, and says which.
func (l layout) restoreHost() error {
	b, err := os.ReadFile(l.savedHost())
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing recorded: the cluster never started
	}
	if err != nil {
		return err
	}
	saved := map[string]string{}
	if err := json.Unmarshal(b, &saved); err != nil {
		return err
	}
	keys := make([]string, 0, len(saved))
	for k := range saved {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		now, err := os.ReadFile(filepath.Join("/proc/sys", k))
		if err != nil || strings.TrimSpace(string(now)) == saved[k] {
			continue
		}
		if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(saved[k]), 0o644); err != nil {
			say("could not restore %s to %s: %v", k, saved[k], err)
			continue
		}
		say("restored sysctl %s: %s -> %s", strings.ReplaceAll(k, "/", "."), strings.TrimSpace(string(now)), saved[k])
	}
	return nil
}

// bridgeUp makes the pods' bridge with the host's address on it before anything binds to it, and
// routes the Service range over it so the host reaches ClusterIPs without touching eth0.
func bridgeUp() error {
	if _, err := os.Stat("/sys/class/net/" + bridgeName); err != nil {
		if err := run("ip", "link", "add", bridgeName, "type", "bridge"); err != nil {
			return err
		}
	}
	out, _ := exec.Command("ip", "-o", "addr", "show", "dev", bridgeName).Output()
	if !bytes.Contains(out, []byte(hostIP+"/")) {
		if err := run("ip", "addr", "add", hostIP+"/24", "dev", bridgeName); err != nil {
			return err
		}
	}
	if err := run("ip", "link", "set", bridgeName, "up"); err != nil {
		return err
	}
	out, _ = exec.Command("ip", "route", "show", serviceCIDR).Output()
	if len(bytes.TrimSpace(out)) == 0 {
		return run("ip", "route", "add", serviceCIDR, "dev", bridgeName, "src", hostIP)
	}
	return nil
}

func bridgeDown() {
	if _, err := os.Stat("/sys/class/net/" + bridgeName); err == nil {
		if err := run("ip", "link", "del", bridgeName); err != nil {
			say("removing bridge %s: %v", bridgeName, err)
		} else {
			say("removed bridge %s", bridgeName)
		}
	}
}

// removeKubeRules deletes every iptables chain named KUBE-* and every rule that jumps to one, in
// every table, for IPv4 and IPv6; the host's own rules stay as they were.
func removeKubeRules() {
	for _, tool := range []string{"iptables", "ip6tables"} {
		saved, err := exec.Command(tool + "-save").Output()
		if err != nil {
			continue
		}
		if !bytes.Contains(saved, []byte("KUBE-")) {
			continue
		}
		kept, removed := withoutKubeRules(saved)
		cmd := exec.Command(tool + "-restore")
		cmd.Stdin = bytes.NewReader(kept)
		if out, err := cmd.CombinedOutput(); err != nil {
			say("%s-restore: %v: %s", tool, err, out)
			continue
		}
		say("removed %d KUBE-* %s lines", removed, tool)
	}
}

// withoutKubeRules is an iptables-save dump without the KUBE-* chains and the rules naming them.
func withoutKubeRules(saved []byte) ([]byte, int) {
	var kept bytes.Buffer
	removed := 0
	sc := bufio.NewScanner(bytes.NewReader(saved))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "KUBE-") {
			removed++
			continue
		}
		kept.WriteString(line + "\n")
	}
	return kept.Bytes(), removed
}

// unmountUnder lazily unmounts everything mounted below dir, deepest first, and the network
// namespaces containerd made for pods (which live in /run/netns).
func unmountUnder(dir string, netns []string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var targets []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		t := unescapeMount(f[1])
		if strings.HasPrefix(t, dir+"/") {
			targets = append(targets, t)
		}
		for _, n := range netns {
			if t == n {
				targets = append(targets, t)
			}
		}
	}
	sort.Slice(targets, func(i, j int) bool { return len(targets[i]) > len(targets[j]) })
	for _, t := range targets {
		if err := syscall.Unmount(t, syscall.MNT_DETACH); err == nil {
			say("unmounted %s", t)
		}
	}
	for _, n := range netns {
		_ = os.Remove(n)
	}
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// podNetns lists the network namespaces containerd's CRI made (cni-<uuid>).
func podNetns() []string {
	var out []string
	for _, d := range []string{"/run/netns", "/var/run/netns"} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "cni-") {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

// killCgroupLeftovers kills whatever still runs in the kubelet's kubepods cgroups and removes
// them, deepest first.
func killCgroupLeftovers() {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods")
	if u, err := os.Stat("/sys/fs/cgroup/unified/kubepods"); err == nil && u.IsDir() {
		roots = append(roots, "/sys/fs/cgroup/unified/kubepods")
	}
	killed := 0
	for _, root := range roots {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for _, d := range dirs {
			procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			for _, f := range strings.Fields(string(procs)) {
				var pid int
				if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					killed++
				}
			}
		}
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			_ = syscall.Rmdir(d)
		}
	}
	if killed > 0 {
		say("killed %d leftover container processes", killed)
	}
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
