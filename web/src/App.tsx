/** The shell: header with the signed-in user, navigation by role, and the page for the path. */
import {
  Button,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Spinner,
  Tab,
  TabList,
  Text,
  Title1,
  tokens,
} from '@fluentui/react-components';
import { lazy, Suspense, useMemo, type ReactNode } from 'react';
import { Api } from './api';
import type { Role, Session } from './auth';
import { AuditPage } from './pages/AuditPage';
import { CallDetailPage } from './pages/CallDetailPage';
import { CallsPage } from './pages/CallsPage';
import { CompletenessPage } from './pages/CompletenessPage';
import { HoldsPage } from './pages/HoldsPage';
import { InteractionPage } from './pages/InteractionPage';
import { MediaHostsPage } from './pages/MediaHostsPage';
import { SearchPage } from './pages/SearchPage';
import { DispositionsPage } from './pages/DispositionsPage';
import { ExportsPage } from './pages/ExportsPage';
import { LivePage } from './pages/LivePage';
import { navigate, useLocation } from './router';

const useStyles = makeStyles({
  shell: { display: 'flex', flexDirection: 'column', minHeight: '100%' },
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: '12px',
    flexWrap: 'wrap',
    padding: '8px 16px',
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: {
    fontWeight: tokens.fontWeightSemibold,
    fontSize: tokens.fontSizeBase500,
    marginRight: 'auto',
  },
  body: {
    display: 'flex',
    flex: 1,
    flexWrap: 'wrap',
    // Wrapped (narrow), the lines keep their own height: no stretched gap under the tabs.
    '@media (max-width: 720px)': { alignContent: 'flex-start' },
  },
  nav: {
    padding: '8px',
    borderRight: `1px solid ${tokens.colorNeutralStroke2}`,
    minWidth: '180px',
    '@media (max-width: 720px)': { borderRight: 'none', width: '100%', overflowX: 'auto' },
  },
  main: {
    flex: 1,
    padding: '16px 24px',
    minWidth: 0,
    display: 'flex',
    flexDirection: 'column',
    gap: '16px',
  },
  signIn: {
    maxWidth: '32rem',
    margin: '10vh auto',
    display: 'flex',
    flexDirection: 'column',
    gap: '16px',
    padding: '0 16px',
  },
});

// The analytics page brings the chart library: loaded only when someone opens it.
const AnalyticsPage = lazy(() => import('./pages/AnalyticsPage'));

interface PageDef {
  readonly key: string;
  readonly label: string;
  readonly roles: readonly Role[];
}

/** What each role is offered; the server still decides every request. */
const PAGES: readonly PageDef[] = [
  { key: 'calls', label: 'Calls', roles: ['admin'] },
  { key: 'analytics', label: 'Analytics', roles: ['admin'] },
  { key: 'mediahosts', label: 'Media hosts', roles: ['operator'] },
  { key: 'live', label: 'Live', roles: ['complianceOfficer', 'supervisor'] },
  { key: 'search', label: 'Search', roles: ['complianceOfficer', 'auditor', 'supervisor'] },
  { key: 'holds', label: 'Holds', roles: ['admin', 'complianceOfficer', 'auditor'] },
  { key: 'exports', label: 'Exports', roles: ['complianceOfficer'] },
  { key: 'dispositions', label: 'Dispositions', roles: ['complianceOfficer'] },
  { key: 'audit', label: 'Audit', roles: ['admin', 'complianceOfficer', 'auditor'] },
  { key: 'completeness', label: 'Completeness', roles: ['admin', 'complianceOfficer', 'auditor'] },
];

export function SignIn(props: { onSignIn: (() => Promise<void>) | undefined; error?: string }) {
  const styles = useStyles();
  return (
    <main className={styles.signIn}>
      <Title1 as="h1">Attest</Title1>
      <Text>Compliance recording for Microsoft Teams. Sign in with your work account.</Text>
      {props.error === undefined ? null : (
        <MessageBar intent="error" role="alert">
          <MessageBarBody>Sign-in is not available: {props.error}</MessageBarBody>
        </MessageBar>
      )}
      {props.onSignIn === undefined ? null : (
        <Button appearance="primary" onClick={() => void props.onSignIn?.()}>
          Sign in
        </Button>
      )}
    </main>
  );
}

export function App(props: { session: Session }) {
  const styles = useStyles();
  const { session } = props;
  const api = useMemo(() => new Api(() => session.getToken()), [session]);
  const { path, query } = useLocation();
  const pages = PAGES.filter((p) => p.roles.some((r) => session.roles.includes(r)));
  const [first = '', ...rest] = path.split('/').map(decodeURIComponent);
  const current = pages.find((p) => p.key === first) ?? pages[0];
  const page = pageFor(current?.key, rest, query, api, session);
  return (
    <div className={styles.shell}>
      <header className={styles.header}>
        <span className={styles.brand}>Attest</span>
        <Text>
          {session.account.name ?? session.account.username} ·{' '}
          {session.roles.join(', ') || 'no role'}
        </Text>
        <Button appearance="secondary" size="small" onClick={() => void session.signOut()}>
          Sign out
        </Button>
      </header>
      <div className={styles.body}>
        <nav className={styles.nav} aria-label="Portal pages">
          <TabList
            vertical={window.innerWidth > 720}
            selectedValue={current?.key}
            onTabSelect={(_, data) => navigate(String(data.value))}
          >
            {pages.map((p) => (
              <Tab key={p.key} value={p.key}>
                {p.label}
              </Tab>
            ))}
          </TabList>
        </nav>
        <main className={styles.main}>
          {page ?? (
            <MessageBar intent="warning">
              <MessageBarBody>
                Your account has no Attest role. Ask an administrator to assign one of the app roles
                (Attest.Operator, Attest.Admin, Attest.ComplianceOfficer, Attest.Auditor,
                Attest.Supervisor).
              </MessageBarBody>
            </MessageBar>
          )}
        </main>
      </div>
    </div>
  );
}

function pageFor(
  key: string | undefined,
  rest: readonly string[],
  query: URLSearchParams,
  api: Api,
  session: Session,
): ReactNode {
  switch (key) {
    case 'calls':
      return rest[0] === undefined ? (
        <CallsPage api={api} />
      ) : (
        <CallDetailPage api={api} callId={rest[0]} />
      );
    case 'analytics':
      return (
        <Suspense fallback={<Spinner size="small" label="Loading the analytics page…" />}>
          <AnalyticsPage api={api} />
        </Suspense>
      );
    case 'mediahosts':
      return <MediaHostsPage api={api} />;
    case 'live':
      return <LivePage api={api} />;
    case 'dispositions':
      return <DispositionsPage api={api} />;
    case 'search':
      return rest[0] !== undefined && rest[1] !== undefined ? (
        <InteractionPage api={api} tenantId={rest[0]} interactionId={rest[1]} session={session} />
      ) : (
        <SearchPage api={api} query={query} />
      );
    case 'holds':
      return <HoldsPage api={api} canChange={session.roles.includes('complianceOfficer')} />;
    case 'exports':
      return <ExportsPage api={api} />;
    case 'audit':
      return <AuditPage api={api} />;
    case 'completeness':
      return <CompletenessPage api={api} />;
    default:
      return undefined;
  }
}
