from supportit import create_app

app = create_app()
