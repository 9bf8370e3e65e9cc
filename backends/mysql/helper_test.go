package mysql_test

const helperEnv = "K3_MYSQL_TEST_HELPER"

func helperMain() int { return 0 }
