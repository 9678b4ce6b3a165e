/** Entry: reads the public sign-in settings, settles the sign-in redirect, renders the portal. */
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { createRoot } from 'react-dom/client';
import { App, SignIn } from './App';
import { BASE_PATH, startAuth, type PortalSettings } from './auth';

async function boot(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  const render = (node: React.ReactNode) =>
    root.render(
      <FluentProvider theme={webLightTheme} style={{ height: '100%' }}>
        {node}
      </FluentProvider>,
    );
  try {
    const response = await fetch(`${BASE_PATH}config.json`);
    if (!response.ok) throw new Error(`the portal settings did not load (HTTP ${response.status})`);
    const settings = (await response.json()) as PortalSettings;
    const auth = await startAuth(settings);
    render(
      auth.session === undefined ? (
        <SignIn onSignIn={() => auth.signIn()} />
      ) : (
        <App session={auth.session} />
      ),
    );
  } catch (error) {
    render(
      <SignIn
        onSignIn={undefined}
        error={error instanceof Error ? error.message : String(error)}
      />,
    );
  }
}

void boot();
