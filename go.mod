module github.com/k3/k3-storage

go 1.26.0

require (
	github.com/go-sql-driver/mysql v1.10.1
	github.com/google/btree v1.1.3
	go.uber.org/goleak v1.3.0
	gopkg.in/yaml.v3 v3.0.1
	gorm.io/driver/mysql v1.6.0
	gorm.io/gorm v1.31.2
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/jinzhu/inflection v1.0.0 // indirect
	github.com/jinzhu/now v1.1.5 // indirect
	github.com/kr/text v0.2.0 // indirect
	golang.org/x/text v0.20.0 // indirect
)
