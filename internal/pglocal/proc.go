package pglocal

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// procState classifies the PID recorded in postmaster.pid.
type procState int

const (
	procGone   procState = iota // no such process
	procServer                  // a live postgres process working in our data folder
	procOther                   // the PID is taken by something else, or is a zombie
)

// haveProc reports whether /proc is available (Linux). Without it we fall
// back to kill(pid, 0), which is what pg_ctl status does.
func haveProc() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// postmasterState checks pid against the process table. kill(pid, 0)
// alone is not enough: a killed postmaster can linger as a zombie when the
// init process of a container does not reap it, and PIDs get reused after
// a reboot. Every server process has the data folder as its working
// directory, which identifies the cluster.
func postmasterState(pid int, dataDir string) procState {
	if pid <= 0 {
		return procGone
	}
	if !haveProc() {
		err := syscall.Kill(pid, 0)
		if err == nil || errors.Is(err, syscall.EPERM) {
			return procServer
		}
		return procGone
	}
	state, ok := procRunState(pid)
	if !ok {
		return procGone
	}
	if state == 'Z' || state == 'X' {
		return procOther
	}
	if !isServerProcess(pid, dataDir, true) {
		return procOther
	}
	return procServer
}

// procRunState returns the state letter from /proc/PID/stat.
func procRunState(pid int) (byte, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// "PID (comm) S ...": comm may contain spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return 0, false
	}
	return b[i+2], true
}

// isServerProcess reports whether pid is a postgres process working in
// dataDir. If its working directory cannot be read (another user's
// process), it returns ifUnsure.
func isServerProcess(pid int, dataDir string, ifUnsure bool) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	comm, err := os.ReadFile(dir + "/comm")
	if err != nil {
		return false
	}
	switch strings.TrimSpace(string(comm)) {
	case "postgres", "postmaster":
	default:
		return false
	}
	cwd, err := os.Readlink(dir + "/cwd")
	if err != nil {
		return ifUnsure && errors.Is(err, os.ErrPermission)
	}
	return cwd == dataDir
}

// serverProcesses lists live postgres processes working in dataDir, e.g.
// children of a postmaster that was killed.
func serverProcesses(dataDir string) []int {
	if !haveProc() {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, ok := procRunState(pid); !ok || state == 'Z' || state == 'X' {
			continue
		}
		if isServerProcess(pid, dataDir, false) {
			pids = append(pids, pid)
		}
	}
	return pids
}
