"""nn refuses to run on top of a different package that is also called `autograd`."""

import subprocess
import sys
import textwrap


def test_nn_refuses_a_foreign_autograd(tmp_path):
    fake = tmp_path / "autograd"
    fake.mkdir()
    (fake / "__init__.py").write_text("def grad(f):\n    return f\n")  # looks like HIPS autograd
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        try:
            import nn
        except ImportError as e:
            print("REFUSED:", e)
        else:
            print("IMPORTED")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "REFUSED:" in out.stdout
    assert "HIPS autograd" in out.stdout and "pip uninstall autograd" in out.stdout
    assert str(fake) in out.stdout


def test_nn_imports_on_top_of_edgegrad():
    out = subprocess.run([sys.executable, "-c", "import nn, autograd; print(autograd.ENGINE)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "edgegrad"
