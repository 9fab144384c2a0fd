"""设备: phones running WeChat accounts, the gateway they connect to, and the risk budget that
keeps accounts safe. (Built in the devices issue.)
"""
