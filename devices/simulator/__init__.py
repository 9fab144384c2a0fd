"""模拟手机: phones that speak the real device protocol over real WebSockets — the demo
(`make run` starts a few), the peer in tests and the load generator
(`cunkebao devices simulate --count N`).
"""
from devices.simulator.fleet import SimulatedFleet
from devices.simulator.phone import PhoneConfig, SimulatedPhone

__all__ = ["PhoneConfig", "SimulatedFleet", "SimulatedPhone"]
