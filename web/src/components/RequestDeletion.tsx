/**
 * Asks for an interaction's deletion (compliance officers). The server refuses while retention or
 * a legal hold keeps it (409, shown in words) and otherwise starts a disposition that waits for a
 * second officer on the Dispositions page.
 */
import { Button, Text } from '@fluentui/react-components';
import { useState } from 'react';
import type { Api } from '../api';
import { Link } from '../router';
import { Failure } from './State';

export function RequestDeletion(props: { api: Api; path: string }) {
  const [error, setError] = useState<Error | undefined>();
  const [isRequested, setIsRequested] = useState(false);
  const request = async () => {
    setError(undefined);
    try {
      await props.api.request('DELETE', props.path);
      setIsRequested(true);
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 8, alignItems: 'start' }}>
      <Failure error={error} />
      {isRequested ? (
        <Text role="status">
          Deletion requested. A second compliance officer must approve it on the{' '}
          <Link to="dispositions">Dispositions</Link> page.
        </Text>
      ) : (
        <Button onClick={() => void request()}>Request deletion</Button>
      )}
    </div>
  );
}
