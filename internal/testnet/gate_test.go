package testnet

import "testing"

func TestGate(t *testing.T) {
	g := NewGate()
	quit := make(chan struct{})
	if !g.Pass(quit) {
		t.Fatal("a new gate holds traffic back")
	}
	g.Blackhole()
	g.Blackhole()
	passed := make(chan bool)
	go func() { passed <- g.Pass(quit) }()
	select {
	case <-passed:
		t.Fatal("passed a closed gate")
	default:
	}
	g.Heal()
	if !<-passed {
		t.Fatal("Pass reported quit after Heal")
	}
	g.Heal()
	g.Blackhole()
	close(quit)
	if g.Pass(quit) {
		t.Fatal("Pass went through a closed gate after quit")
	}
}
