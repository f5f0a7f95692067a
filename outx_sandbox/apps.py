from django.apps import AppConfig


class OutxSandboxConfig(AppConfig):
    name = "outx_sandbox"
    verbose_name = "OutX sandbox"
