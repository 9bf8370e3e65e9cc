package native

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// mysqlNames are the server programs FindMySQL looks for, in order.
func mysqlNames() []string { return []string{"mariadbd", "mysqld"} }

// sbinDirs are where FindMySQL looks after PATH: server programs live in
// sbin directories, which a user's PATH often lacks.
func sbinDirs() []string {
	return []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/libexec", "/usr/local/mysql/bin", "/usr/local/mariadb/bin"}
}

// NotFoundError: no server program was found. Names and Places say what
// was looked for and where, for the user.
type NotFoundError struct {
	Names  []string
	Places []string // "PATH" and directories, in the order searched
}

// ErrNotFound matches every *NotFoundError.
var ErrNotFound = errors.New(txtNotFound)

func (e *NotFoundError) Error() string {
	return fmt.Sprintf(errNotFound, strings.Join(e.Names, txtOr), strings.Join(e.Places, ", "))
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// FindMySQL returns the path of the MySQL server program to run: binary
// itself when set (it must exist and be executable), else the first of
// mariadbd and mysqld found in path (a PATH value) and then in the sbin
// directories (/usr/sbin, /usr/local/sbin, /sbin, /usr/libexec,
// /usr/local/mysql/bin, /usr/local/mariadb/bin). It fails with a
// *NotFoundError (ErrNotFound) when there is none.
func FindMySQL(binary, path string) (string, error) { return findMySQL(binary, path, sbinDirs()) }

func findMySQL(binary, path string, dirs []string) (string, error) {
	if binary != "" {
		if err := executable(binary); err != nil {
			return "", fmt.Errorf(errBinary, binary, err)
		}
		return binary, nil
	}
	for _, name := range mysqlNames() {
		for _, dir := range append(filepath.SplitList(path), dirs...) {
			if dir == "" || !filepath.IsAbs(dir) {
				continue
			}
			p := filepath.Join(dir, name)
			if executable(p) == nil {
				return p, nil
			}
		}
	}
	return "", &NotFoundError{Names: mysqlNames(), Places: append([]string{"PATH"}, dirs...)}
}

// executable checks that p is a regular file someone may execute.
func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New(txtNotRegular)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return errors.New(txtNotExecutable)
	}
	return nil
}

// findInstaller returns MariaDB's mariadb-install-db (or its old name
// mysql_install_db) belonging to the server program bin: next to it, in
// its installation's bin or scripts directory, else in path or /usr/bin.
func findInstaller(bin, path string) (string, error) {
	dir := filepath.Dir(bin)
	prefix := filepath.Dir(dir)
	dirs := []string{dir, filepath.Join(prefix, "bin"), filepath.Join(prefix, "scripts")}
	dirs = append(dirs, filepath.SplitList(path)...)
	dirs = append(dirs, "/usr/bin", "/usr/local/bin")
	names := []string{"mariadb-install-db", "mysql_install_db"}
	for _, name := range names {
		for _, d := range dirs {
			if d == "" || !filepath.IsAbs(d) {
				continue
			}
			p := filepath.Join(d, name)
			if executable(p) == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf(errNoInstaller, strings.Join(names, txtOr), bin)
}
