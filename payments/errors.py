class PaymentError(Exception):
    """A payment rule was broken; `message` is Italian and shown to the user as is."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
